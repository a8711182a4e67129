from labs.poetry.cli import main

main()
