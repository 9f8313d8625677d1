import psycopg

from tests.support.postgres import PostgresServer


def test_throwaway_postgres_server_accepts_connections() -> None:
    server = PostgresServer()
    server.start()
    try:
        server.create_database("selfcheck")
        url = server.url("selfcheck")
        assert url.startswith("postgresql+psycopg://")
        libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(libpq_url) as conn:
            row = conn.execute("select 1").fetchone()
        assert row == (1,)
        server.drop_database("selfcheck")
    finally:
        server.stop()
    assert not server.started
