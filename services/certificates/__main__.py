from services.certificates.app import SPEC
from shared.service import main

main(SPEC)
