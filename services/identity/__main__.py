from services.identity.app import SPEC
from shared.service import main

main(SPEC)
