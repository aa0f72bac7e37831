from bandstand.admin.models import AdminBase
from bandstand.platform.migrations import run_env

run_env(AdminBase.metadata)
