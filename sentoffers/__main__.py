from sentoffers.cli import app

app()
