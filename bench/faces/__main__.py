from bench.faces.bench import main

main()
