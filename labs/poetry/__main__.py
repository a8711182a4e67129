from labs.poetry.lab import main

main()
