from services.enrollment.app import SPEC
from shared.service import main

main(SPEC)
