from shared.service import main
from services.certificates.app import SPEC

main(SPEC)
