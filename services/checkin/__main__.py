from services.checkin.app import SPEC
from shared.service import main

main(SPEC)
