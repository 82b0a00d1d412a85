# The real evidence vectors with their evaluation times (sourced by demo.sh,
# bench.sh and tests). Fields: id|evidence|collateral-or-vcek|now|expected
# Times and expectations come from shared/testdata/evidence/README.md.
VOUCH_VECTORS=(
  "S1|evidence/sgx/v3_phala_quote.bin|evidence/sgx/v3_phala_collateral.json|1751328000|ConfigurationAndSWHardeningNeeded"
  "T1|evidence/tdx/v4_phala_quote.bin|evidence/tdx/v4_phala_collateral.json|1751328000|UpToDate"
  "T2|evidence/tdx/v5_phala_tcb_unsupported_quote.bin|evidence/tdx/v5_fmspc90c06f_2026-02_collateral.json|1772323200|TcbNotSupported"
  "T3|evidence/tdx/v5_gotdx_quote.bin|evidence/tdx/v5_fmspc90c06f_2026-02_collateral.json|1772323200|UpToDate"
  "T4|evidence/tdx/v5_oe_relaunch_quote.bin|evidence/tdx/v5_oe_relaunch_collateral.json|1740787200|TDRelaunchAdvised"
  "T5|evidence/tdx/v5_oe_outofdate_quote.bin|evidence/tdx/v5_oe_eval21_collateral.json|1781913600|OutOfDate"
  "T6|evidence/tdx/v4_oe_tdx10_quote.bin|evidence/tdx/v4_fmspc50806f_2023-06_collateral.json|1688173200|UpToDate"
  "T7|evidence/tdx/v4_gotdx_sprE4_quote.bin|evidence/tdx/v4_fmspc50806f_2023-06_collateral.json|1688173200|TcbNotSupported"
  "N1|evidence/snp/milan_v2_gosev_report.bin|evidence/snp/milan_v2_gosev_vcek.der|1700000000|None"
  "N2|evidence/snp/milan_v2_virtee_report.bin|evidence/snp/milan_v2_virtee_vcek.der|1700000000|None"
)
