from labs.spam.lab import main

main()
