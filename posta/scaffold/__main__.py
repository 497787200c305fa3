import sys

from posta.scaffold import main

sys.exit(main(sys.argv[1:]))
