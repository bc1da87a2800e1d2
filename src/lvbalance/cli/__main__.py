from lvbalance.cli import app

app()
