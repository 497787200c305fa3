from simulator.app import main

main()
