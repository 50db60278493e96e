print("tx")
