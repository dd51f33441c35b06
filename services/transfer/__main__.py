from services.transfer.app import SPEC
from shared.service import main

main(SPEC)
