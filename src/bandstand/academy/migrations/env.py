from bandstand.academy.models import AcademyBase
from bandstand.platform.migrations import run_env

run_env(AcademyBase.metadata)
