# nmrh_target_msvc_dialect(TARGET): compile TARGET's C sources as MSVC-dialect module code
# (docs/wdk-surface.md, "MSVC dialect"): clang's -fms-extensions, the forced include
# msvc_dialect.h, and the warnings for what MSVC accepts silently turned off. clang only: gcc has
# no -fms-extensions equivalent for #pragma warning, i64 suffixes or __declspec.
# Included from core/CMakeLists.txt; the function is then callable from any directory.
function(nmrh_target_msvc_dialect target)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "nmrh_target_msvc_dialect(${target}): the MSVC dialect needs clang (-fms-extensions); "
                        "configure with CMAKE_C_COMPILER=clang (the asan and release presets do)")
  endif()
  set(flags
    -fms-extensions                    # #pragma warning, __pragma, __declspec, __int64, 0xffui8/i64
                                     # suffixes, anonymous struct members of a tagged type, MS builtins
    -Wno-microsoft                     # ... without a warning for each of them
    -Wno-unknown-pragmas               # #pragma prefast, #pragma code_seg, #pragma intrinsic
    -Wno-duplicate-decl-specifier      # `static inline` when `inline` means `static inline`
    -Wno-pointer-sign                  # LONG* where ULONG* is declared (MSVC: no warning)
    -Wno-multichar                     # pool tags written 'gaTm'
    -Wno-unused-function               # header inline functions a file does not call
    -Wno-missing-field-initializers    # `= {0}` on structures
    -Wno-gnu-zero-variadic-macro-arguments
    -include ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/msvc_dialect.h)
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:C>:${flags}>")
endfunction()
