# Install rules and Debian packages (CPack DEB), for every part, in one place.
#
# Problem: an operator installs noreboot on real hosts, and each host role needs a different
# slice of it: every host runs the agent, one or a few machines run the server, a build
# machine (or CI) builds patches, and whoever publishes needs noreboot-admin. Approach: one
# install component per role, and CPack's DEB generator turns each component into a package:
#
#   noreboot-agent    /usr/bin/noreboot, its systemd unit, /etc/noreboot/agent.toml (conffile),
#                     /var/lib/noreboot (0700, root)
#   noreboot-server   /usr/bin/noreboot-server, its unit, /etc/noreboot/server.toml (conffile),
#                     the system user 'noreboot' (postinst), /var/lib/noreboot-server
#   noreboot-builder  /usr/bin/noreboot-build, /usr/lib/noreboot/kernel-fetch (noreboot-build
#                     finds it next to itself: <bindir>/../lib/noreboot/kernel-fetch), and the
#                     kernel build tools it runs as Depends
#   noreboot-admin    /usr/bin/noreboot-admin: keys, signing, publishing and rollouts. Its own
#                     package because both the server machine (tokens) and the build machine
#                     (keygen, sign, publish) want it, and a file can belong to one package only;
#                     the server and the builder Depend on it.
#   noreboot-feed     /usr/bin/noreboot-feed, its oneshot service and hourly timer,
#                     /etc/noreboot/feed.toml (conffile), the system user 'noreboot-feed'
#                     (postinst), /var/lib/noreboot-feed; Depends on the builder (which brings
#                     noreboot-vm and noreboot-debian-fix) and on QEMU and busybox for its tests
#
# Targets are defined in the parts' own folders; install(TARGETS) of a target from another
# directory works since CMake 3.13, and every rule is guarded by if(TARGET) so a tree without
# some part still configures. Shared-library Depends are computed by dpkg-shlibdeps
# (CPACK_DEBIAN_PACKAGE_SHLIBDEPS); the tools a part runs (compilers, apt, kmod) are listed by
# hand below, because no linker can see them.
#
# Trade-off: CPack rather than a debian/ folder with debhelper. CPack builds from the same
# CMake tree in one command and needs no source package; what it lacks (conffiles, the
# systemd hand-off that dh_installsystemd writes) is done explicitly with control files in
# packaging/debian/<component>/. Units are installed but not enabled or started by the
# packages: both need configuration (keys, server address, enrollment) first.
#
# Build the packages with scripts/package (Release, prefix /usr, out/*.deb).

include(GNUInstallDirs)

set(NR_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)
# Absolute destinations for files outside the prefix (GNUInstallDirs maps sysconfdir to /etc
# and localstatedir to /var when the prefix is /usr, as scripts/package configures it).
set(NR_SYSCONF ${CMAKE_INSTALL_FULL_SYSCONFDIR}/noreboot)
set(NR_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)

# ---- agent ----
if(TARGET noreboot)
  install(TARGETS noreboot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
  install(FILES ${NR_PKG_DIR}/systemd/noreboot-agent.service DESTINATION ${NR_UNITDIR} COMPONENT agent)
  install(FILES ${NR_PKG_DIR}/config/agent.toml DESTINATION ${NR_SYSCONF} COMPONENT agent)
  install(DIRECTORY DESTINATION ${NR_SYSCONF}/keys COMPONENT agent)
  install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/noreboot
          DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE COMPONENT agent)
endif()

# ---- server ----
if(TARGET noreboot-server)
  install(TARGETS noreboot-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
  install(FILES ${NR_PKG_DIR}/systemd/noreboot-server.service DESTINATION ${NR_UNITDIR} COMPONENT server)
  install(FILES ${NR_PKG_DIR}/config/server.toml DESTINATION ${NR_SYSCONF} COMPONENT server)
  install(DIRECTORY DESTINATION ${NR_SYSCONF}/keys COMPONENT server)
endif()

# ---- admin ----
if(TARGET noreboot-admin)
  install(TARGETS noreboot-admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT admin)
endif()

# ---- builder ----
if(TARGET noreboot-build)
  install(TARGETS noreboot-build RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT builder)
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/kernel-fetch
          DESTINATION lib/noreboot COMPONENT builder)
  # Debian's own fix between two kernel versions, as a patch noreboot-build takes.
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/debian-fix
          DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME noreboot-debian-fix COMPONENT builder)
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/lib/source-delta.py
          DESTINATION lib/noreboot COMPONENT builder)
  # The VM runner (boots a Debian kernel in QEMU; `noreboot-vm smoke` tests a bundle) and the
  # helpers it finds in <bindir>/../lib/noreboot.
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/noreboot-vm DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT builder)
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/lib/vm-initramfs ${PROJECT_SOURCE_DIR}/scripts/lib/vm-guest-init
                   ${PROJECT_SOURCE_DIR}/scripts/lib/vm-smoke-guest
          DESTINATION lib/noreboot COMPONENT builder)
endif()

# ---- feed (follows Debian's security updates; runs where the builder runs) ----
if(TARGET noreboot-feed)
  install(TARGETS noreboot-feed RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT feed)
  install(FILES ${NR_PKG_DIR}/systemd/noreboot-feed.service ${NR_PKG_DIR}/systemd/noreboot-feed.timer
          DESTINATION ${NR_UNITDIR} COMPONENT feed)
  install(FILES ${NR_PKG_DIR}/config/feed.toml DESTINATION ${NR_SYSCONF} COMPONENT feed)
endif()

# Documentation: the operator guide in every package, each part's own guide in its package.
set(NR_DOCS_agent operator-guide.md agent.md)
set(NR_DOCS_server operator-guide.md server.md api.md)
set(NR_DOCS_admin operator-guide.md api.md bundle-format.md)
set(NR_DOCS_builder operator-guide.md builder.md patch-author-guide.md differ.md klp.md)
set(NR_DOCS_feed operator-guide.md feed.md)
set(NR_BIN_agent noreboot)
set(NR_BIN_server noreboot-server)
set(NR_BIN_admin noreboot-admin)
set(NR_BIN_builder noreboot-build)
set(NR_BIN_feed noreboot-feed)
set(NR_COMPONENTS "")
foreach(comp agent server admin builder feed)
  if(NOT TARGET ${NR_BIN_${comp}})
    continue()
  endif()
  list(APPEND NR_COMPONENTS ${comp})
  foreach(doc ${NR_DOCS_${comp}})
    if(EXISTS ${PROJECT_SOURCE_DIR}/docs/${doc})
      install(FILES ${PROJECT_SOURCE_DIR}/docs/${doc}
              DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/noreboot-${comp} COMPONENT ${comp})
    endif()
  endforeach()
endforeach()

# ---- CPack: one .deb per component ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME noreboot)
set(CPACK_PACKAGE_VENDOR "noreboot")
set(CPACK_PACKAGE_CONTACT "noreboot maintainers <noreboot@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted Linux kernel live patching")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${NR_COMPONENTS})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/noreboot")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

set(nr_dep_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME noreboot-agent)
set(CPACK_DEBIAN_AGENT_DESCRIPTION "noreboot agent: applies signed kernel livepatches without a reboot
 The noreboot agent runs on every host of a fleet. It checks in with a noreboot
 server, verifies signed livepatch bundles against the publisher keys it trusts and
 the running kernel's identity, loads them through the kernel's livepatch core,
 watches the transition and reverts on trouble. Host commands: noreboot apply,
 revert, status, check, enroll.")
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "ca-certificates")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME noreboot-server)
set(CPACK_DEBIAN_SERVER_DESCRIPTION "noreboot server: stores livepatch bundles and rolls them out in stages
 The noreboot server stores signed livepatch bundles, enrolls hosts, runs staged
 rollouts with failure budgets and automatic halts, and shows the fleet in a web
 dashboard, a JSON API and Prometheus metrics. SQLite by default, PostgreSQL to run
 several servers behind a load balancer.")
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd, noreboot-admin (= ${nr_dep_version})")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "postgresql")

set(CPACK_DEBIAN_ADMIN_PACKAGE_NAME noreboot-admin)
set(CPACK_DEBIAN_ADMIN_DESCRIPTION "noreboot admin: keys, signing, publishing and rollouts
 noreboot-admin makes publisher keys, signs and inspects livepatch bundles, and drives
 a noreboot server: publish, rollouts, pins, hosts, the fleet, tokens, the audit log.")
set(CPACK_DEBIAN_ADMIN_PACKAGE_DEPENDS "ca-certificates")

set(CPACK_DEBIAN_BUILDER_PACKAGE_NAME noreboot-builder)
set(CPACK_DEBIAN_BUILDER_DESCRIPTION "noreboot builder: turns a kernel source fix into a signed livepatch
 noreboot-build fetches and caches a Debian kernel's packages, compiles only the
 files a fix touches with the kernel's own build system, compares the objects
 function by function and emits a livepatch module in a signed bundle.")
# What noreboot-build and kernel-fetch run: the kernel's build system (make prepare, the
# touched units, the module link) with Debian's compiler, patch, apt/dpkg to fetch the kernel
# packages, depmod, python3 and xz (vmlinux from vmlinuz).
set(CPACK_DEBIAN_BUILDER_PACKAGE_DEPENDS
    "noreboot-admin (= ${nr_dep_version}), gcc-12, gcc, libc6-dev, make, bc, bison, flex, libelf-dev, libssl-dev, dwarves, patch, binutils, kmod, python3, xz-utils, apt, dpkg, tar, util-linux")
# noreboot-vm (and so noreboot-feed's tests before publishing) boots kernels with these.
set(CPACK_DEBIAN_BUILDER_PACKAGE_RECOMMENDS "qemu-system-x86, busybox-static")

set(CPACK_DEBIAN_FEED_PACKAGE_NAME noreboot-feed)
set(CPACK_DEBIAN_FEED_DESCRIPTION "noreboot feed: tested livepatches for Debian's kernel security updates
 noreboot-feed follows Debian's kernel security updates: for each new linux-source
 version it derives the fix, builds a cumulative livepatch for every kernel the
 fleet runs, boots each kernel in QEMU with the patch before publishing, publishes
 the signed fix record and bundles and rolls them out (or waits for an operator's
 approval). A hardened oneshot service run hourly by a timer.")
# The builder (noreboot-build, noreboot-debian-fix, noreboot-vm, kernel-fetch), the admin tool
# it publishes with, what noreboot-vm boots guests with, and apt-cache for the archive.
set(CPACK_DEBIAN_FEED_PACKAGE_DEPENDS
    "noreboot-builder (= ${nr_dep_version}), noreboot-admin (= ${nr_dep_version}), qemu-system-x86, busybox-static, cpio, gzip, apt, passwd, ca-certificates")

# Maintainer scripts and conffiles. CPack does not mark /etc files as conffiles on its own.
foreach(comp agent server feed)
  string(TOUPPER ${comp} COMP)
  set(extra "")
  foreach(script postinst prerm postrm)
    if(EXISTS ${NR_PKG_DIR}/debian/${comp}/${script})
      list(APPEND extra ${NR_PKG_DIR}/debian/${comp}/${script})
    endif()
  endforeach()
  file(WRITE ${PROJECT_BINARY_DIR}/packaging/${comp}/conffiles "${NR_SYSCONF}/${comp}.toml\n")
  list(APPEND extra ${PROJECT_BINARY_DIR}/packaging/${comp}/conffiles)
  set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_EXTRA "${extra}")
  set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_STRICT_PERMISSION ON)
endforeach()

set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/packages)
include(CPack)
