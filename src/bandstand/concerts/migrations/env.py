from bandstand.concerts.models import ConcertsBase
from bandstand.platform.migrations import run_env

run_env(ConcertsBase.metadata)
