from curvecast.cli import main

main()
