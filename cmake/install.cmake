# Install rules (`make install PREFIX=... DESTDIR=...`, `cmake --install`).
# Layout (docs/INSTALL.md):
#   bin/aetherd, bin/aether-mcp      linked with libaether.a (they also use src/util,
#                                    which the .so keeps hidden)
#   lib/libaether.so.X.Y.Z, .so.X, .so, lib/libaether.a
#   include/aether/*.h               every public header
#   lib/pkgconfig/aether.pc
#   share/man/man1/aetherd.1, aether-mcp.1; share/man/man5/aether.conf.5
#   share/bash-completion/completions/aetherd
#   lib/systemd/user/aetherd@.service
# aether-bench is not installed: it measures the index on TEXMEX files through
# library internals (src/store, src/vectors) and belongs to the source tree.
# Files that name the prefix (aether.pc, the unit's ExecStart) are written at
# install time, so `cmake --install --prefix P` and make install agree.
include(GNUInstallDirs)

install(TARGETS aetherd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET aether-mcp)
  install(TARGETS aether-mcp RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS aether ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET aether_shared)
  install(TARGETS aether_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Unspecified)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/aether DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# aether.pc and aetherd@.service, configured with the prefix the install uses.
set(AE_INSTALL_GEN ${CMAKE_BINARY_DIR}/install-gen)
install(CODE "
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(AE_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  string(ASCII 36 dollar)
  foreach(d LIBDIR:${CMAKE_INSTALL_LIBDIR} INCLUDEDIR:${CMAKE_INSTALL_INCLUDEDIR} BINDIR:${CMAKE_INSTALL_BINDIR})
    string(REPLACE \":\" \";\" kv \"\${d}\")
    list(GET kv 0 k)
    list(GET kv 1 v)
    if(IS_ABSOLUTE \"\${v}\")
      set(AE_\${k} \"\${v}\")
      set(AE_PC_\${k} \"\${v}\")
    else()
      set(AE_\${k} \"\${AE_PREFIX}/\${v}\")
      set(AE_PC_\${k} \"\${dollar}{prefix}/\${v}\")
    endif()
  endforeach()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/aether.pc.in ${AE_INSTALL_GEN}/aether.pc @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/systemd/aetherd@.service.in ${AE_INSTALL_GEN}/aetherd@.service @ONLY)
")
install(FILES ${AE_INSTALL_GEN}/aether.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${AE_INSTALL_GEN}/aetherd@.service DESTINATION lib/systemd/user)

foreach(page aetherd.1 aether-mcp.1 aether.conf.5)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" sec ${page})
  install(FILES ${PROJECT_SOURCE_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/completion/aetherd.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME aetherd)
