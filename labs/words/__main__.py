from labs.words.cli import main

main()
