print("txbench")
