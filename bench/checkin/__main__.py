from bench.checkin.bench import main

main()
