from shared.service import main
from services.checkin.app import SPEC

main(SPEC)
