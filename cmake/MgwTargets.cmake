# One helper per target kind so every target gets the same flags (Abseil style).
#   mgw_cc_library(NAME x SRCS ... DEPS ...)        -> target mgw_x, alias mgw::x
#   mgw_cc_binary(NAME x OUTPUT_NAME y SRCS ... DEPS ...)
#   mgw_cc_test(NAME x SRCS ... DEPS ... [TEST_PREFIX p.]) -> gtest binary mgw_x, label "unit";
#                                                   CTest names "<p.><Suite>.<Test>"
#   mgw_cc_benchmark(NAME x SRCS ... DEPS ...)
include_guard(GLOBAL)

set(MGW_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wold-style-cast -Wimplicit-fallthrough -Wno-missing-field-initializers
    # GCC 12 reports false -Wrestrict positives inside std::string (GCC bug 105651).
    -Wno-restrict
    # GCC 12 false positive on coroutine frames of Asio awaitables (GCC bug 108170).
    -Wno-mismatched-new-delete)

function(mgw_apply_flags target)
  target_compile_options(${target} PRIVATE ${MGW_WARNINGS})
  if(MGW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(MGW_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

function(mgw_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(mgw_${A_NAME} STATIC ${A_SRCS})
  add_library(mgw::${A_NAME} ALIAS mgw_${A_NAME})
  target_include_directories(mgw_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(mgw_${A_NAME} PUBLIC ${A_DEPS})
  mgw_apply_flags(mgw_${A_NAME})
endfunction()

function(mgw_cc_binary)
  cmake_parse_arguments(A "" "NAME;OUTPUT_NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  if(A_OUTPUT_NAME)
    set_target_properties(${A_NAME} PROPERTIES OUTPUT_NAME ${A_OUTPUT_NAME})
  endif()
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  mgw_apply_flags(${A_NAME})
endfunction()

function(mgw_cc_test)
  if(NOT MGW_BUILD_TESTS)
    return()  # -DMGW_BUILD_TESTS=OFF: no GoogleTest needed
  endif()
  cmake_parse_arguments(A "" "NAME;TEST_PREFIX" "SRCS;DEPS" ${ARGN})
  add_executable(mgw_${A_NAME} ${A_SRCS})
  target_link_libraries(mgw_${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  mgw_apply_flags(mgw_${A_NAME})
  include(GoogleTest)
  gtest_discover_tests(mgw_${A_NAME}
    TEST_PREFIX "${A_TEST_PREFIX}"
    PROPERTIES LABELS unit ENVIRONMENT "MGW_SOURCE_DIR=${PROJECT_SOURCE_DIR};MGW_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared"
    DISCOVERY_TIMEOUT 60)
endfunction()

function(mgw_cc_benchmark)
  if(NOT MGW_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(mgw_${A_NAME} ${A_SRCS})
  target_link_libraries(mgw_${A_NAME} PRIVATE ${A_DEPS} benchmark::benchmark)
  mgw_apply_flags(mgw_${A_NAME})
endfunction()
