// The host of the precompiled header the GoogleTest binaries reuse (NorebootPch.cmake).
int main() { return 0; }
