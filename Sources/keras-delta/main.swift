import KerasDelta
print("keras-delta")
