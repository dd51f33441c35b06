from bench.enrollment.bench import main

main()
