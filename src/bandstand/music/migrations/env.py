from bandstand.music.models import MusicBase
from bandstand.platform.migrations import run_env

run_env(MusicBase.metadata)
