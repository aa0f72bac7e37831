from bandstand.identity.models import IdentityBase
from bandstand.platform.migrations import run_env

run_env(IdentityBase.metadata)
