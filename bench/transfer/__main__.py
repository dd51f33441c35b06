from bench.transfer.bench import main

main()
