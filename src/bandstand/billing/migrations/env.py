from bandstand.billing.models import BillingBase
from bandstand.platform.migrations import run_env

run_env(BillingBase.metadata)
