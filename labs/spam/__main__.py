from labs.spam.cli import main

main()
