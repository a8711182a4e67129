from labs.char_rnn.cli import main

main()
