from labs.gpt2.cli import main

main()
