#!/bin/sh
# CMake flags for building llama.cpp with the vector units this CPU has: AVX2/FMA/F16C, plus
# AVX-512 (with VBMI, VNNI, BF16) and AVX-VNNI where present. Never -march=native and never AMX
# (a native build crashed in llama_decode here). The Makefile keys its wheel cache by this
# output, so a wheel is only reused on a CPU with the same flags.
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has() { case "$flags" in *" $1 "*) return 0 ;; esac; return 1; }

args="-DGGML_NATIVE=OFF"
if has avx2 && has fma && has f16c; then
  args="$args -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if has avx_vnni; then args="$args -DGGML_AVX_VNNI=ON"; fi
  if has avx512f && has avx512cd && has avx512vl && has avx512dq && has avx512bw; then
    args="$args -DGGML_AVX512=ON"
    if has avx512vbmi; then args="$args -DGGML_AVX512_VBMI=ON"; fi
    if has avx512_vnni; then args="$args -DGGML_AVX512_VNNI=ON"; fi
    if has avx512_bf16; then args="$args -DGGML_AVX512_BF16=ON"; fi
  fi
fi
echo "$args"
