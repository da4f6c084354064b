# make_estudy2_expected.R -- driver that produced tests/reference/estudy2_expected.csv
#
# What it does
#   Runs estudy2's own vignette example (estudy2 0.10.0, vignettes/estudy2-intro.Rmd):
#     apply_market_model(rates, regressor = rates_indx, same_regressor_for_all = TRUE,
#                        market_model = "sim", estimation_method = "ols",
#                        estimation_start = as.Date("2019-04-01"),
#                        estimation_end   = as.Date("2020-03-13"))
#     parametric_tests   (event 2020-03-16 .. 2020-03-20)
#     nonparametric_tests(event 2020-03-16 .. 2020-03-20)
#   on the package's bundled data (data/rates.rda, data/rates_indx.rda), read from the
#   CSV copies in shared/data/reference/estudy2/ (rates.csv, rates_indx.csv), and writes
#   every printed column at full precision (17 significant digits) in tidy form.
#
# How the values were produced (provenance)
#   * estudy2 code: NOT bundled here (GPL-3, third-party). The estudy2 R sources were
#     read from the public GitHub repository irudnyts/estudy2 and written to a temporary
#     directory outside this repository (default /tmp/estudy2_src/R; override with the
#     environment variable ESTUDY2_SRC). Files sourced:
#       R/parametric_tests.R     commit fa37ece7a87e5018d628757e555a6bf0fba73320 (52674 chars)
#       R/nonparametric_tests.R  commit fa37ece7a87e5018d628757e555a6bf0fba73320 (53511 chars)
#       R/apply_market_model.R   the stored version with the AMZN..UPWK examples (48027
#                                chars, no commit given by the index); only its first 30858
#                                chars were used (the generic, apply_market_model.{list,
#                                data.frame,zoo}, the returns generic and returns.zoo, lines
#                                1-639; SIM-block line numbers equal those quoted for CRAN
#                                0.10.0, e.g. complete.cases at 594, lm at 608). Its tail
#                                (returns.data.frame with an unreleased GLS branch) is not
#                                0.10.0 and is not needed for zoo input.
#     constants.R (const_q1..3) is defined inline below as the standard-normal quantiles
#     qnorm(0.95), qnorm(0.975), qnorm(0.995) (the documented critical values).
#     The GitHub files are not byte-identical to the CRAN 0.10.0 tarball (their roxygen
#     examples differ), but their computing code reproduces, to every printed digit,
#     all 5 x 12 statistics and all significance stars printed in the CRAN 0.10.0
#     vignette (inst/doc/estudy2-intro.html, built 2021-11-15); see
#     docs/estudy2_conventions.md, section "Cross-check".
#   * R: R version 4.2.2 Patched (2022-11-10 r83330), Debian bookworm packages
#     r-base-core 4.2.2.20221110-2, r-cran-zoo 1.8-11, r-cran-matrixstats 0.63.0.
#   * Run on 2026-11-27. md5 of the sourced transcriptions (to check a re-transcription):
#       apply_market_model_prefix.R 572f30ef4f45800b418082fc2b164360
#       parametric_tests.R          0f743af1787fc4c6a0e36cc12892539a
#       nonparametric_tests.R       4caa0ecd22aa3fd33205ec6f131c434e
#     (apply_market_model_prefix.R = the first 30858 characters of the file, i.e. up to
#     and including the closing brace of returns.zoo, plus a final newline.)
#
# Outputs
#   estudy2_expected.csv                  one row per (test, event day): printed columns
#   estudy2_expected_market_model.csv     alpha, beta, estimation_length, sd of AR per firm
#   estudy2_expected_abnormal_returns.csv abnormal returns 2019-04-02..2020-03-20 (17 sig.)
#
# Usage
#   Rscript tests/reference/make_estudy2_expected.R \
#       [path/to/shared/data/reference/estudy2] [output.csv]

suppressPackageStartupMessages({
    library(zoo)
    library(matrixStats)
})

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "/work/shared/data/reference/estudy2"
out_csv <- if (length(args) >= 2) args[2] else "tests/reference/estudy2_expected.csv"
src_dir <- Sys.getenv("ESTUDY2_SRC", "/tmp/estudy2_src/R")

# --- estudy2 code (third-party, outside the repo) -----------------------------
const_q1 <- stats::qnorm(1 - 0.10 / 2)
const_q2 <- stats::qnorm(1 - 0.05 / 2)
const_q3 <- stats::qnorm(1 - 0.01 / 2)
for (f in c("apply_market_model_prefix.R", "parametric_tests.R",
            "nonparametric_tests.R")) {
    source(file.path(src_dir, f))
}
# S3 dispatch for functions sourced into the global environment
registerS3method("apply_market_model", "zoo", apply_market_model.zoo)
registerS3method("returns", "zoo", returns.zoo)

# --- data: the .rda objects as zoo, from the CSV copies -------------------------
rates_df <- utils::read.csv(file.path(data_dir, "rates.csv"), check.names = FALSE,
                            na.strings = c("", "NA"))
rates <- zoo::zoo(as.matrix(rates_df[, -1]), as.Date(rates_df$date))
indx_df <- utils::read.csv(file.path(data_dir, "rates_indx.csv"), check.names = FALSE,
                           na.strings = c("", "NA"))
rates_indx <- zoo::zoo(as.matrix(indx_df[, -1, drop = FALSE]), as.Date(indx_df$date))

# --- the vignette calls ----------------------------------------------------------
securities_returns <- apply_market_model(
    rates = rates,
    regressor = rates_indx,
    same_regressor_for_all = TRUE,
    market_model = "sim",
    estimation_method = "ols",
    estimation_start = as.Date("2019-04-01"),
    estimation_end = as.Date("2020-03-13")
)
ev_start <- as.Date("2020-03-16")
ev_end <- as.Date("2020-03-20")
par <- parametric_tests(list_of_returns = securities_returns,
                        event_start = ev_start, event_end = ev_end)
npar <- nonparametric_tests(list_of_returns = securities_returns,
                            event_start = ev_start, event_end = ev_end)
print(par)
print(npar)

# --- tidy output -------------------------------------------------------------------
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
tidy <- function(res, stat_col, sig_col, test, family, has_mean) {
    data.frame(family = family,
               test = test,
               column = stat_col,
               date = format(res$date),
               weekday = as.character(res$weekday),
               percentage = fmt(res$percentage),
               mean = if (has_mean) fmt(res$mean) else "",
               statistic = fmt(res[[stat_col]]),
               significance = as.character(res[[sig_col]]),
               stringsAsFactors = FALSE)
}
par_tests <- list(c("brown_warner_1980", "bw_1980"), c("brown_warner_1985", "bw_1985"),
                  c("t_test", "t_test"), c("patell", "pt"), c("boehmer", "bh"),
                  c("lamb", "lmb"))
npar_tests <- list(c("sign_test", "sign"), c("generalized_sign_test", "gsign"),
                   c("corrado_sign_test", "csign"), c("rank_test", "rank"),
                   c("modified_rank_test", "mrank"), c("wilcoxon_test", "wlcx"))
rows <- list()
for (t in par_tests) {
    rows[[length(rows) + 1]] <- tidy(par, paste0(t[2], "_stat"), paste0(t[2], "_signif"),
                                     t[1], "parametric", TRUE)
}
for (t in npar_tests) {
    rows[[length(rows) + 1]] <- tidy(npar, paste0(t[2], "_stat"), paste0(t[2], "_signif"),
                                     t[1], "nonparametric", FALSE)
}
out <- do.call(rbind, rows)
utils::write.csv(out, out_csv, row.names = FALSE)

# Companion file: per-security market-model fit (helps debugging an implementation)
mm <- do.call(rbind, lapply(seq_along(securities_returns), function(i) {
    r <- securities_returns[[i]]
    est <- r$abnormal[zoo::index(r$abnormal) >= r$estimation_start &
                      zoo::index(r$abnormal) <= r$estimation_end]
    data.frame(security = colnames(rates)[i],
               alpha = fmt(r$coefficients[["alpha"]]),
               beta = fmt(r$coefficients[["beta"]]),
               estimation_length = r$estimation_length,
               sd_estimation_abnormal = fmt(stats::sd(est, na.rm = TRUE)),
               stringsAsFactors = FALSE)
}))
utils::write.csv(mm, sub("\\.csv$", "_market_model.csv", out_csv), row.names = FALSE)
ar <- do.call(cbind, lapply(securities_returns, function(r) r$abnormal))
colnames(ar) <- colnames(rates)
ar <- ar[zoo::index(ar) >= as.Date("2019-04-01") & zoo::index(ar) <= ev_end]
ar_df <- data.frame(date = format(zoo::index(ar)),
                    apply(zoo::coredata(ar), 2, fmt), check.names = FALSE,
                    stringsAsFactors = FALSE)
utils::write.csv(ar_df, sub("\\.csv$", "_abnormal_returns.csv", out_csv),
                 row.names = FALSE)
