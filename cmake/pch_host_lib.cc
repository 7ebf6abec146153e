// The host of the precompiled header the project's static libraries reuse (NorebootPch.cmake).
namespace noreboot::pch_host {
int unused = 0;
}
