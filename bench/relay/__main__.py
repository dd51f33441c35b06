from bench.relay.bench import main

main()
