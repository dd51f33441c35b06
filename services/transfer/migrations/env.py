from shared.migrations_env import run_migrations

run_migrations()
