import numpy as np
import pytest

from labs import course, sampling

P = np.array([0.5, 0.25, 0.125, 0.125])


def test_temperature_is_the_lessons_formula():
    # q_i = exp(log p_i / T) / sum_j exp(log p_j / T); T = 0.5 squares and renormalises.
    squared = P ** 2 / (P ** 2).sum()
    np.testing.assert_allclose(sampling.apply_temperature(P, 0.5), squared)
    np.testing.assert_allclose(sampling.apply_temperature(P, 1.0), P)
    np.testing.assert_allclose(sampling.apply_temperature(P, 2.0), np.sqrt(P) / np.sqrt(P).sum())
    np.testing.assert_allclose(sampling.apply_temperature([0.0, 1.0], 0.7), [0.0, 1.0])


def test_greedy_top_k_and_top_p_distributions():
    np.testing.assert_array_equal(sampling.distribution(P, "greedy"), [1, 0, 0, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-k", top_k=2), [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-k", top_k=1), [1, 0, 0, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-k", top_k=10), P)
    # p = 0.75 is reached exactly by the two most probable tokens.
    np.testing.assert_allclose(sampling.distribution(P, "top-p", top_p=0.75), [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-p", top_p=0.8),
                               [0.5 / 0.875, 0.25 / 0.875, 0.125 / 0.875, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-p", top_p=0.1), [1, 0, 0, 0])
    np.testing.assert_allclose(sampling.distribution(P, "top-p", top_p=1.0), P)
    # top-k then temperature: (0.5, 0.25) -> squared (0.25, 0.0625) -> (0.8, 0.2)
    np.testing.assert_allclose(sampling.distribution(P, "top-k", temperature=0.5, top_k=2),
                               [0.8, 0.2, 0, 0])


def test_sampling_follows_the_distribution_and_is_reproducible():
    draws = [sampling.sample(P, np.random.RandomState(0), "temperature") for _ in range(3)]
    assert len(set(draws)) == 1
    rng = np.random.RandomState(1)
    counts = np.bincount([sampling.sample(P, rng) for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(counts, P, atol=0.03)
    assert {sampling.sample(P, rng, "top-k", top_k=2) for _ in range(200)} == {0, 1}


def test_sampling_draws_as_the_course_sampler_does():
    course_rng, rng = np.random.RandomState(7), np.random.RandomState(7)
    sampler = sampling.Sampler(temperature=0.6)
    for _ in range(50):
        assert course.sample(P, 0.6, course_rng) == sampler.draw(P, rng)


@pytest.mark.parametrize("options, message", [
    ({"temperature": 0}, "temperature must be > 0"),
    ({"temperature": -1}, "temperature must be > 0"),
    ({"method": "top-k", "top_k": 0}, "top-k needs an integer k >= 1"),
    ({"method": "top-p", "top_p": 0}, r"top-p needs p in \(0, 1\]"),
    ({"method": "top-p", "top_p": 1.5}, r"top-p needs p in \(0, 1\]"),
    ({"method": "beam"}, "unknown sampling method 'beam'"),
])
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        sampling.distribution(P, **options)
    with pytest.raises(ValueError, match=message):
        sampling.Sampler(**options)


def test_tiny_temperatures_approach_greedy_without_overflow():
    np.testing.assert_allclose(sampling.apply_temperature(P, 1e-4), [1, 0, 0, 0])
