#!/bin/sh
# Re-run every number in REPORT.md (about 60-70 min of CPU on one core). Run from /work/research.
set -e
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PY="nice -n 15 /work/main/.venv/bin/python"
B=/work/shared/benchmarks
mkdir -p out
# 1. least-squares peers on the same curves (peers_ls.py, unchanged)
$PY $B/peers_ls.py $B/lcdb_accuracy_dev.csv 0.05 --rows > out/peers_acc005.json
$PY $B/peers_ls.py $B/lcdb_accuracy_dev.csv 0.1 --rows > out/peers_acc010.json
$PY $B/peers_ls.py $B/lcdb_accuracy_dev.csv 0.2 --rows > out/peers_acc020.json
$PY $B/peers_ls.py $B/lcdb_logloss_dev.csv 0.1 --rows > out/peers_logloss.json
$PY $B/peers_ls.py $B/seed_coco_bdd_map.csv 0.05 --rows > out/peers_seed.json
# 2. fits of every configuration on every corpus (grid + importance-sampling posterior, engine.py)
for c in pow3 pow4 mmf exp3 pow3_het pow4_het mmf_het pow3_rec pow3_win mmf_win \
         pow3_r11 pow3_r15 pow3_r110 pow3_het_r11 pow3_het_r15 pow3_het_r110 pow3_het_n1; do
  $PY run_fits.py $c
done
# 3. fixed-weight mixtures
$PY make_ens.py ens34 pow3_het:0.5 pow4_het:0.5
$PY make_ens.py ens34m pow3_het:0.34 pow4_het:0.33 mmf_het:0.33
$PY make_ens.py ens34llo pow3_het:0.5 pow4_het:0.5          # per-curve weights 1/llo^2
MIN_M=6 $PY make_ens.py ens34m6 pow3_het:0.5 pow4_het:0.5   # RECOMMENDED
MIN_M=6 $PY make_ens.py ens34mm6 pow3_het:0.34 pow4_het:0.33 mmf_het:0.33
# 4. Q1 feature screen (EB objective on split A)
for f in none llo llo_c rms_resid rms_last; do $PY tune.py pow3 $f; done
for f in none llo rms_last; do $PY tune.py pow3_het $f; done
FREE_P=1 $PY tune.py pow3_het rms_last
for f in rl_sig rl_dof; do FREE_P=1 $PY tune.py pow3_het $f; done
# 5. comparisons (discrepancy EB-tuned on split A, scored on A and B)
$PY compare.py pow3 pow3_het pow4 mmf pow3_het_r15 pow3_het_r110 pow3_het_r11 pow3_het_n1 pow4_het mmf_het \
               pow3_r15 pow3_r110 pow3_r11 exp3 mmf_win pow3_win pow3_rec
FREE_P=1 $PY compare.py pow3_het
$PY kgrid.py pow3_het '{"lam":3.16,"nu":2.0,"feat":"rms_last","p":0.36}'
FREE_P=1 Q=2 KAPPA=0.2 $PY compare.py pow3_het ens34 pow4_het ens34m ens34llo ens34m6 ens34mm6
# 6. tables
$PY tables.py out/main_tables.md 'today: pow3, global disc kappa 0.1|pow3|{"kappa":0.1,"lam":0,"nu":2}' \
  'pow3 + het noise + adaptive disc|pow3_het|{"kappa":0.2,"q":2,"lam":3.234,"p":0.443,"nu":2,"feat":"rms_last"}' \
  '**recommended**: pow3+pow4 mix, het noise, adaptive disc|ens34m6|{"kappa":0.2,"q":2,"lam":2.887,"p":0.489,"nu":2,"feat":"rms_last"}'
$PY table.py all tuned pow3 pow3_rec pow3_win pow3_het mmf mmf_win mmf_het pow4 pow4_het exp3 pow3_r11 pow3_r15 pow3_r110 \
  pow3_het_r11 pow3_het_r15 pow3_het_r110 pow3_het_n1 > out/q_tables_all.txt
# 7. leave-last-out check on synthetic contradictions and real curves
$PY check.py ens
$PY check.py pow3_het
# 8. NUTS confirmation of the approximate posterior
$PY nuts_check.py 6
# 9. final candidates (few-point rules, room Beta(1,1) variant) and the 5-draw averaged tables
MIN_M=6 FALLBACK=pow3 $PY make_ens.py ens34m6h pow3_het:0.5 pow4_het:0.5
MIN_M=6 FALLBACK=pow3 FALLBACK_M=4 $PY make_ens.py ens34m6h3 pow3_het:0.5 pow4_het:0.5      # RECOMMENDED (final)
$PY run_fits.py pow4_het_r11
MIN_M=6 FALLBACK=pow3_r11 $PY make_ens.py ens34m6h_r11 pow3_het_r11:0.5 pow4_het_r11:0.5
FREE_P=1 Q=2 KAPPA=0.2 $PY compare.py ens34m6h ens34m6h3 ens34m6h_r11 mmf_win pow3_win mmf_het
NSEED=5 $PY tables.py out/main_tables.md 'today: pow3, global disc kappa 0.1|pow3|{"kappa":0.1,"lam":0,"nu":2}' \
  'pow3 + het noise + adaptive disc|pow3_het|{"kappa":0.2,"q":2,"lam":3.234,"p":0.443,"nu":2,"feat":"rms_last"}' \
  'mixture pow3_het+pow4_het (pow3_het below 6 pts)|ens34m6|{"kappa":0.2,"q":2,"lam":2.887,"p":0.489,"nu":2,"feat":"rms_last"}' \
  '**recommended**: mixture pow3_het+pow4_het (plain pow3 below 6 pts)|ens34m6h|{"kappa":0.2,"q":2,"lam":2.826,"p":0.488,"nu":2,"feat":"rms_last"}'
NSEED=5 $PY tables.py out/main_tables_rec.md '**recommended**: pow3_het+pow4_het mix (pow3_het at 4-5 pts, pow3 at 3 pts)|ens34m6h3|{"kappa":0.2,"q":2,"lam":2.835,"p":0.491,"nu":2,"feat":"rms_last"}'
NSEED=5 $PY tables.py out/main_tables_r11.md 'variant: same mixture with room ~ Beta(1,1)|ens34m6h_r11|{"kappa":0.2,"q":2,"lam":2.714,"p":0.498,"nu":2,"feat":"rms_last"}'
$PY check.py ens        # re-run with the final forecaster.py rules
$PY speed.py
$PY optimism.py
$PY cov_by_m.py pow3_het '{"kappa":1.6e-5,"lam":3.16,"nu":1.97,"feat":"rms_last","p":0.363}'
