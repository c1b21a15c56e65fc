#!/usr/bin/python3
"""Renders a science image and its reference frames with tools Rapid did not write, and their truth.

Usage: render_image_set.py SPEC.json OUTDIR

The scene (stars, a few saturated stars, variable stars, transients in the science epoch only) is drawn here
from the spec's seed; every frame has its own TAN-SIP WCS (a focal-plane distortion shared by all frames, the
frame dithered by tens of pixels and rotated). Pixel positions come from astropy's WCS (all_world2pix), the
pixels from the chosen renderer:
  fitsh      fitsh's firandom, elliptical Gaussian profiles integrated exactly over each pixel;
  gnuastro   GNU Astronomy Utilities' astmkprof, Moffat profiles with Monte-Carlo integration of the central pixels;
  photutils  photutils' IntegratedGaussianPRF (a Gaussian integrated over each pixel) rendered by astropy modeling.
Noise (Poisson in electrons, Gaussian read noise) is added with numpy; pixels are clipped at the saturation level
and written by astropy in the header style the spec asks for.

Written into OUTDIR: science.fits, reference_NN.fits, truth.fits (DIFFERENCE: every source whose flux changed,
at its science-image position; CONSTANT: the constant stars), stamps_science.fits and stamps_reference.fits (each
changed source's unit-flux profile at its own sub-pixel phase, rendered by the same renderer with the science
and the reference PSF: the mosaic cell of row k is column k % STAMPCOL, row k // STAMPCOL), coverage.fits (how many
reference frames cover each science pixel) and imageset.json (what was made, noise and calibration).
Conventions: positions in truth.fits are 1-based FITS pixels; fluxes are DN/s, the same in every frame (one gain
and zero point); the noise figures are per-pixel 1-sigma of the background in DN/s.
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

warnings.simplefilter("ignore")

STAMP = 15  # stamp side (pixels), odd
OVERSAMPLE = 5  # astmkprof's grid per pixel


def spec_defaults(spec):
    d = {
        "renderer": "photutils", "seed": 1, "size": 512, "references": 4,
        "science_fwhm": 1.3, "reference_fwhm": 1.6, "moffat_beta": 2.5, "ellipticity": 0.06, "position_angle": 30.0,
        "pixel_scale_arcsec": 0.11, "ra_deg": 150.1, "dec_deg": 2.2,
        "crpix_offset": [-2600.0, 3400.0], "sip_order": 4, "distortion_px": 100.0,
        "dither_px": 30.0, "rotations_deg": [0.0, 0.8, -1.4, 2.1, -0.5, 1.2, -2.0, 0.3, 1.7],
        "science_rotation_deg": 0.4,
        "stars_per_mpx": 160.0, "star_mag_range": [19.0, 25.5], "saturated_stars": 3, "variables": 12,
        "transients": 150, "transient_snr_range": [2.0, 300.0], "transient_margin_px": 24, "transients_in_thin_coverage": 0,
        "gain": 2.0, "read_noise_e": 10.0, "sky_rate": 1.0, "science_exptime": 100.0, "reference_exptime": 100.0,
        "zero_point": 26.0, "saturation_dn": 60000.0, "header_style": "standard", "mjd_obs": 61650.25,
    }
    d.update({k: v for k, v in spec.items() if v is not None})
    return d


def build_wcs(s, rotation_deg, sky_centre, rng_sip):
    """A TAN-SIP WCS whose chip centre lands on sky_centre (RA, Dec) with the given roll."""
    n = s["size"]
    crpix = np.array([(n + 1) / 2.0 + s["crpix_offset"][0], (n + 1) / 2.0 + s["crpix_offset"][1]])
    scale = s["pixel_scale_arcsec"] / 3600.0
    t = np.radians(rotation_deg)
    cd = scale * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"] if s["sip_order"] >= 2 else ["RA---TAN", "DEC--TAN"]
    w.wcs.crpix = crpix
    w.wcs.cd = cd
    w.wcs.crval = sky_centre
    w.wcs.cunit = ["deg", "deg"]
    if s["sip_order"] >= 2:
        from astropy.wcs import Sip
        a, b = rng_sip
        w.sip = Sip(a, b, None, None, crpix)
    # Move CRVAL until the chip centre is at sky_centre (the SIP offset and an off-chip CRPIX move it).
    for _ in range(4):
        ra, dec = w.all_pix2world([[(n + 1) / 2.0, (n + 1) / 2.0]], 1)[0]
        w.wcs.crval = w.wcs.crval + (np.array(sky_centre) - np.array([ra, dec]))
        w.wcs.set()
    return w


def sip_polynomials(s, rng):
    """A and B of order sip_order whose largest offset over the chip is distortion_px (terms of order 2 and up)."""
    order = s["sip_order"]
    if order < 2:
        return None
    n = s["size"]
    u0, v0 = -s["crpix_offset"][0] - (n - 1) / 2.0, -s["crpix_offset"][1] - (n - 1) / 2.0
    corners = [(u0 + du, v0 + dv) for du in np.linspace(0, n - 1, 9) for dv in np.linspace(0, n - 1, 9)]
    r = max(np.hypot(u, v) for u, v in corners)
    a = np.zeros((order + 1, order + 1))
    b = np.zeros((order + 1, order + 1))
    for p in range(order + 1):
        for q in range(order + 1 - p):
            if p + q < 2:
                continue
            a[p, q] = rng.uniform(-1, 1) / r ** (p + q)
            b[p, q] = rng.uniform(-1, 1) / r ** (p + q)

    def largest(c):
        return max(abs(sum(c[p, q] * u ** p * v ** q for p in range(order + 1) for q in range(order + 1 - p))) for u, v in corners)
    k = s["distortion_px"] / max(largest(a), largest(b))
    return a * k, b * k


def fwhm_to_sigma(f):
    return f / (2.0 * np.sqrt(2.0 * np.log(2.0)))


class Renderer:
    """Draws unit-flux-scaled point sources (x, y 1-based FITS pixels, flux in counts) onto a zero image."""

    def __init__(self, s, workdir):
        self.s = s
        self.workdir = workdir

    def draw(self, shape, xs, ys, fluxes, fwhm):
        raise NotImplementedError

    def version(self):
        raise NotImplementedError


class PhotutilsRenderer(Renderer):
    def draw(self, shape, xs, ys, fluxes, fwhm):
        from photutils.psf import IntegratedGaussianPRF
        image = np.zeros(shape)
        model = IntegratedGaussianPRF(sigma=fwhm_to_sigma(fwhm))
        # Evaluated on a box of +-6 sigma around each source (the wings beyond hold < 1e-7 of the flux).
        half = int(np.ceil(6 * fwhm_to_sigma(fwhm))) + 2
        for x, y, f in zip(xs, ys, fluxes):
            model.x_0, model.y_0, model.flux = x - 1.0, y - 1.0, f  # photutils: 0-based pixel centres
            x0, y0 = int(round(x - 1)), int(round(y - 1))
            j0, j1 = max(0, y0 - half), min(shape[0], y0 + half + 1)
            i0, i1 = max(0, x0 - half), min(shape[1], x0 + half + 1)
            if j0 >= j1 or i0 >= i1:
                continue
            yy, xx = np.mgrid[j0:j1, i0:i1]
            image[j0:j1, i0:i1] += model(xx, yy)
        return image

    def version(self):
        import photutils
        return f"photutils {photutils.__version__} IntegratedGaussianPRF"


class FitshRenderer(Renderer):
    def draw(self, shape, xs, ys, fluxes, fwhm):
        s = self.s
        if len(xs) == 0:
            return np.zeros(shape)
        lst = os.path.join(self.workdir, "firandom.lst")
        out = os.path.join(self.workdir, "firandom.fits")
        with open(lst, "w") as f:
            for x, y, fl in zip(xs, ys, fluxes):
                # firandom's pixel i spans [i, i + 1]: its centre is at i + 0.5, FITS pixel i + 1.
                f.write(f"{x - 0.5:.6f} {y - 0.5:.6f} {fl:.8g} {fwhm:.6f} {s['ellipticity']:.6f} {s['position_angle']:.6f}\n")
        subprocess.run(["firandom", "-L", lst, "--col-xy", "1,2", "--col-flux", "3", "--col-shape", "4,5,6", "--fep",
                        "-s", f"{shape[1]},{shape[0]}", "-m", "0", "--integral", "--no-photon-noise", "--adus",
                        "--noise-suppression", "1e7", "-b", "-64", "-o", out], check=True, capture_output=True)
        return fits.getdata(out).astype(float)

    def version(self):
        r = subprocess.run(["firandom", "--version"], capture_output=True, text=True)
        return "fitsh firandom " + (r.stdout.strip().splitlines() or ["?"])[0]


class GnuastroRenderer(Renderer):
    def draw(self, shape, xs, ys, fluxes, fwhm):
        s = self.s
        if len(xs) == 0:
            return np.zeros(shape)
        cat = os.path.join(self.workdir, "mkprof.txt")
        out = os.path.join(self.workdir, "mkprof.fits")
        with open(cat, "w") as f:
            for i, (x, y, fl) in enumerate(zip(xs, ys, fluxes)):
                # Moffat (function 2), FWHM, beta, position angle, axis ratio, total flux (--mcolisbrightness), truncation 10
                # in astmkprof's radius unit, which is half the FWHM: measured, a star of FWHM 2.8 px holds all its light
                # within 14 px (99.15 % within 10 px), where an untruncated Moffat holds 99.5 % within 14 px and 98.6 % within 10 px.
                f.write(f"{i + 1} {x:.6f} {y:.6f} 2 {fwhm:.6f} {s['moffat_beta']:.4f} 0 1 {fl:.8g} 10\n")
        env = dict(os.environ, GSL_RNG_SEED=str(s["seed"]))
        # Built on a grid 5 times finer than the pixels (gnuastro's advice for undersampled profiles), then each
        # 5 x 5 block summed into its pixel: the profile integrated over the pixel.
        subprocess.run(["astmkprof", cat, f"--mergedsize={shape[1]},{shape[0]}", f"--oversample={OVERSAMPLE}", "--psfinimg",
                        "--mcolisbrightness", "--envseed", "--type=float64",
                        "--ccol=2", "--ccol=3", "--fcol=4", "--rcol=5", "--ncol=6", "--pcol=7", "--qcol=8", "--mcol=9",
                        "--tcol=10", "-o", out, "-q"], check=True, capture_output=True, env=env)
        fine = fits.getdata(out, 1).astype(float)
        return fine.reshape(shape[0], OVERSAMPLE, shape[1], OVERSAMPLE).sum(axis=(1, 3))

    def version(self):
        r = subprocess.run(["astmkprof", "--version"], capture_output=True, text=True)
        return "gnuastro " + (r.stdout.strip().splitlines() or ["?"])[0]


RENDERERS = {"photutils": PhotutilsRenderer, "fitsh": FitshRenderer, "gnuastro": GnuastroRenderer}


def stamps(renderer, xs, ys, fwhm):
    """Each source's unit-flux profile at its own sub-pixel phase, in a mosaic of STAMP x STAMP cells."""
    count = len(xs)
    cols = max(1, int(np.ceil(np.sqrt(count))))
    rows = max(1, int(np.ceil(count / cols)))
    cx, cy = [], []
    for k, (x, y) in enumerate(zip(xs, ys)):
        col, row = k % cols, k // cols
        # Cell centre pixel (1-based) plus the source's offset from its nearest pixel centre.
        cx.append(col * STAMP + STAMP // 2 + 1 + (x - round(x)))
        cy.append(row * STAMP + STAMP // 2 + 1 + (y - round(y)))
    pad = STAMP  # render with a margin so no profile is cut by the mosaic edge, then crop
    image = renderer.draw((rows * STAMP + 2 * pad, cols * STAMP + 2 * pad), np.array(cx) + pad, np.array(cy) + pad, np.ones(count), fwhm)
    return image[pad:pad + rows * STAMP, pad:pad + cols * STAMP], cols


def sum_sq_centred(renderer, fwhm):
    img, _ = stamps(renderer, [8.0], [8.0], fwhm)
    return float((img ** 2).sum())


def write_image(path, s, dn, w, exptime, mjd, extra):
    header = w.to_header(relax=True)
    style = s["header_style"]
    h = fits.Header()
    h["TELESCOP"] = "SIMULATED"
    h["INSTRUME"] = s["renderer"]
    h["FILTER"] = "H158"
    h["EXPTIME"] = (exptime, "s")
    t = Time(mjd, format="mjd", scale="utc")
    if style != "survey":
        h["MJD-OBS"] = mjd
        h["GAIN"] = (s["gain"], "e-/DN")
        h["RDNOISE"] = (s["read_noise_e"] / s["gain"], "DN")
        h["SATURATE"] = (s["saturation_dn"], "DN")
    else:  # "survey": as a real survey's detector header: no MJD-OBS, other names
        h["DATE-OBS"] = t.isot
        h["TIMESYS"] = "UTC"
        h["OBSMJD"] = mjd
        h["EGAIN"] = (s["gain"], "e-/DN")
        h["READNOI"] = (s["read_noise_e"] / s["gain"], "DN")
        h["SATURVAL"] = (s["saturation_dn"], "DN")
    h["ZPTMAG"] = (s["zero_point"], "AB mag of 1 DN/s")
    for k, v in extra.items():
        h[k] = v
    h.extend(header, update=True)
    if style == "survey":
        hdu = fits.PrimaryHDU(np.round(dn).astype(np.int32), header=h)
        hdu.writeto(path, overwrite=True)
    elif style == "extension":
        primary = fits.PrimaryHDU()
        sci = fits.ImageHDU(dn.astype(np.float32), header=h, name="SCI")
        fits.HDUList([primary, sci]).writeto(path, overwrite=True)
    else:
        fits.PrimaryHDU(dn.astype(np.float32), header=h).writeto(path, overwrite=True)


def main():
    spec_path, outdir = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        s = spec_defaults(json.load(f))
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(s["seed"])
    n = s["size"]
    nref = s["references"]
    work = tempfile.mkdtemp(prefix="render-", dir=outdir)
    renderer = RENDERERS[s["renderer"]](s, work)

    # Frames: the science frame at the scene centre, references dithered and rolled; one SIP for all (the instrument).
    sip = sip_polynomials(s, rng)
    centre = np.array([s["ra_deg"], s["dec_deg"]])
    deg_per_px = s["pixel_scale_arcsec"] / 3600.0
    cosd = np.cos(np.radians(s["dec_deg"]))
    science_wcs = build_wcs(s, s["science_rotation_deg"], centre, sip)
    ref_wcs = []
    for k in range(nref):
        ang = rng.uniform(0, 2 * np.pi)
        dx, dy = s["dither_px"] * np.cos(ang), s["dither_px"] * np.sin(ang)
        sky = centre + np.array([dx * deg_per_px / cosd, dy * deg_per_px])
        ref_wcs.append(build_wcs(s, s["rotations_deg"][k % len(s["rotations_deg"])], sky, sip))

    # Scene: stars over a sky box larger than every frame.
    half = (n / 2.0 + 2 * s["dither_px"] + 40) * deg_per_px * 1.5
    area_mpx = (2 * half / deg_per_px) ** 2 / 1e6
    nstars = int(round(s["stars_per_mpx"] * area_mpx))

    def random_sky(count):
        return np.column_stack([centre[0] + rng.uniform(-half, half, count) / cosd, centre[1] + rng.uniform(-half, half, count)])
    # Magnitudes from a power law (counts rising 0.3 dex per mag), bright saturating stars apart.
    lo, hi = s["star_mag_range"]
    u = rng.uniform(0, 1, nstars)
    mags = lo + np.log10(1 + u * (10 ** (0.3 * (hi - lo)) - 1)) / 0.3
    star_sky = random_sky(nstars)
    sat_sky, sat_xy = [], []
    while len(sat_sky) < s["saturated_stars"]:
        x, y = rng.uniform(40, n - 40, 2)
        sat_sky.append(science_wcs.all_pix2world([[x, y]], 1)[0])
    sat_sky = np.array(sat_sky).reshape(-1, 2)
    sat_mags = rng.uniform(15.5, 17.0, len(sat_sky))
    star_sky = np.vstack([star_sky, sat_sky])
    mags = np.concatenate([mags, sat_mags])
    star_flux = 10 ** (-0.4 * (mags - s["zero_point"]))
    saturated = np.concatenate([np.zeros(nstars, int), np.ones(len(sat_sky), int)])

    # Noise and the rough ideal flux error used to spread the transients over S/N.
    gt_sci = s["gain"] * s["science_exptime"]
    gt_ref = s["gain"] * s["reference_exptime"]
    sigma_sci = np.sqrt(s["sky_rate"] * gt_sci + s["read_noise_e"] ** 2) / gt_sci
    sigma_ref_frame = np.sqrt(s["sky_rate"] * gt_ref + s["read_noise_e"] ** 2) / gt_ref
    sigma_ref = sigma_ref_frame / np.sqrt(nref)
    rough = np.sqrt(sigma_sci ** 2 / sum_sq_centred(renderer, s["science_fwhm"]) + sigma_ref ** 2 / sum_sq_centred(renderer, s["reference_fwhm"]))

    sci_xy_stars = science_wcs.all_world2pix(star_sky, 1, tolerance=1e-9, maxiter=200)

    def covered_by_all(xy, margin):
        sky = science_wcs.all_pix2world(xy, 1)
        ok = np.ones(len(xy), bool)
        for w in ref_wcs:
            p = w.all_world2pix(sky, 1, tolerance=1e-9, maxiter=200)
            ok &= (p[:, 0] > margin) & (p[:, 0] < n + 1 - margin) & (p[:, 1] > margin) & (p[:, 1] < n + 1 - margin)
        return ok

    # Transients: inside the science frame and every reference frame, apart from each other and from saturated stars.
    m = s["transient_margin_px"]
    tr_xy = []
    tries = 0
    while len(tr_xy) < s["transients"] and tries < 200000:
        tries += 1
        p = rng.uniform(m, n + 1 - m, 2)
        if not covered_by_all(p.reshape(1, 2), m)[0]:
            continue
        if any(np.hypot(*(p - q)) < 12 for q in tr_xy):
            continue
        if any(np.hypot(*(p - q)) < 20 for q, sat in zip(sci_xy_stars, saturated) if sat):
            continue
        tr_xy.append(p)
    # Optionally some where fewer reference frames cover (their ideal noise is then understated: for flag tests only).
    thin = 0
    while thin < s["transients_in_thin_coverage"] and tries < 400000:
        tries += 1
        p = rng.uniform(8, n - 7, 2)
        if covered_by_all(p.reshape(1, 2), 8)[0] or any(np.hypot(*(p - q)) < 12 for q in tr_xy):
            continue
        tr_xy.append(p)
        thin += 1
    tr_xy = np.array(tr_xy).reshape(-1, 2)
    snr = np.exp(rng.uniform(*np.log(s["transient_snr_range"]), len(tr_xy)))
    tr_flux = snr * rough
    tr_sky = science_wcs.all_pix2world(tr_xy, 1)

    # Variables: stars (not saturated, inside every frame) whose science flux differs from the reference flux.
    candidates = [i for i in range(nstars) if covered_by_all(sci_xy_stars[i:i + 1], m)[0] and 1 < sci_xy_stars[i, 0] < n and 1 < sci_xy_stars[i, 1] < n]
    var_idx = rng.choice(candidates, size=min(s["variables"], len(candidates)), replace=False) if candidates else np.array([], int)
    var_science_flux = star_flux.copy()
    for k, i in enumerate(var_idx):
        change = (1 if k % 2 == 0 else -1) * rng.uniform(10, 80) * rough
        var_science_flux[i] = max(star_flux[i] + change, 0.2 * star_flux[i])

    # Render and add noise.
    def frame(w, flux_rate, transients_flux, fwhm, exptime, seed_offset, path, mjd):
        xy = w.all_world2pix(star_sky, 1, tolerance=1e-9, maxiter=200)
        inside = (xy[:, 0] > -30) & (xy[:, 0] < n + 31) & (xy[:, 1] > -30) & (xy[:, 1] < n + 31)
        xs, ys, fl = list(xy[inside, 0]), list(xy[inside, 1]), list(flux_rate[inside] * exptime)
        if transients_flux is not None and len(tr_sky):
            txy = w.all_world2pix(tr_sky, 1, tolerance=1e-9, maxiter=200)
            xs += list(txy[:, 0]); ys += list(txy[:, 1]); fl += list(transients_flux * exptime)
        dn = renderer.draw((n, n), np.array(xs), np.array(ys), np.array(fl), fwhm)
        noise_rng = np.random.default_rng(s["seed"] * 1000 + seed_offset)
        g = s["gain"]
        electrons = noise_rng.poisson(np.clip(dn * g + s["sky_rate"] * exptime * g, 0, None)).astype(float)
        electrons += noise_rng.normal(0, s["read_noise_e"], electrons.shape)
        image = np.minimum(electrons / g, s["saturation_dn"])
        write_image(path, s, image, w, exptime, mjd, {"RENDERER": renderer.version()[:68]})

    frame(science_wcs, var_science_flux, tr_flux, s["science_fwhm"], s["science_exptime"], 0, os.path.join(outdir, "science.fits"), s["mjd_obs"])
    ref_files = []
    for k, w in enumerate(ref_wcs):
        name = f"reference_{k + 1:02d}.fits"
        frame(w, star_flux, None, s["reference_fwhm"], s["reference_exptime"], k + 1, os.path.join(outdir, name), s["mjd_obs"] - 30 - 3 * k)
        ref_files.append(name)

    # Truth: every changed source at its science position; the constant stars.
    dx, dy, dflux_sci, dflux_ref, kind, dsky = [], [], [], [], [], []
    for k, (x, y) in enumerate(tr_xy):
        dx.append(x); dy.append(y); dflux_sci.append(tr_flux[k]); dflux_ref.append(0.0); kind.append("transient"); dsky.append(tr_sky[k])
    for i in var_idx:
        dx.append(sci_xy_stars[i, 0]); dy.append(sci_xy_stars[i, 1]); dflux_sci.append(var_science_flux[i]); dflux_ref.append(star_flux[i])
        kind.append("variable"); dsky.append(star_sky[i])
    dsky = np.array(dsky).reshape(-1, 2)
    constant = np.setdiff1d(np.arange(len(star_sky)), var_idx)
    difference = fits.BinTableHDU.from_columns([
        fits.Column("ID", "K", array=np.arange(1, len(dx) + 1)),
        fits.Column("KIND", "12A", array=np.array(kind, dtype="U12")),
        fits.Column("RA", "D", array=dsky[:, 0] if len(dsky) else np.zeros(0), unit="deg"),
        fits.Column("DEC", "D", array=dsky[:, 1] if len(dsky) else np.zeros(0), unit="deg"),
        fits.Column("X", "D", array=np.array(dx), unit="pix"),
        fits.Column("Y", "D", array=np.array(dy), unit="pix"),
        fits.Column("FLUX_SCI", "D", array=np.array(dflux_sci), unit="DN/s"),
        fits.Column("FLUX_REF", "D", array=np.array(dflux_ref), unit="DN/s"),
        fits.Column("STAMP", "J", array=np.arange(len(dx), dtype=np.int32)),
    ], name="DIFFERENCE")
    const = fits.BinTableHDU.from_columns([
        fits.Column("ID", "K", array=np.arange(1, len(constant) + 1) + 100000),
        fits.Column("RA", "D", array=star_sky[constant, 0], unit="deg"),
        fits.Column("DEC", "D", array=star_sky[constant, 1], unit="deg"),
        fits.Column("X", "D", array=sci_xy_stars[constant, 0], unit="pix"),
        fits.Column("Y", "D", array=sci_xy_stars[constant, 1], unit="pix"),
        fits.Column("FLUX", "D", array=star_flux[constant], unit="DN/s"),
        fits.Column("SATURATED", "J", array=saturated[constant].astype(np.int32)),
    ], name="CONSTANT")
    fits.HDUList([fits.PrimaryHDU(), difference, const]).writeto(os.path.join(outdir, "truth.fits"), overwrite=True)

    sci_stamps, cols = stamps(renderer, dx, dy, s["science_fwhm"])
    ref_stamps, _ = stamps(renderer, dx, dy, s["reference_fwhm"])
    for name, img in (("stamps_science.fits", sci_stamps), ("stamps_reference.fits", ref_stamps)):
        h = fits.Header()
        h["STAMPSZ"] = (STAMP, "stamp side (pixels)")
        h["STAMPCOL"] = (cols, "stamps per mosaic row")
        fits.PrimaryHDU(img.astype(np.float32), header=h).writeto(os.path.join(outdir, name), overwrite=True)

    # Reference frames covering each science pixel centre.
    yy, xx = np.mgrid[1:n + 1, 1:n + 1]
    sky = science_wcs.all_pix2world(np.column_stack([xx.ravel(), yy.ravel()]).astype(float), 1)
    cov = np.zeros(n * n, np.int16)
    for w in ref_wcs:
        p = w.all_world2pix(sky, 1, tolerance=1e-7, maxiter=100, quiet=True)
        cov += ((p[:, 0] >= 0.5) & (p[:, 0] <= n + 0.5) & (p[:, 1] >= 0.5) & (p[:, 1] <= n + 0.5)).astype(np.int16)
    fits.PrimaryHDU(cov.reshape(n, n).astype(np.float32)).writeto(os.path.join(outdir, "coverage.fits"), overwrite=True)

    manifest = {
        "schema": 1,
        "renderer": renderer.version(),
        "science": "science.fits",
        "references": ref_files,
        "truth": "truth.fits",
        "science_stamps": "stamps_science.fits",
        "reference_stamps": "stamps_reference.fits",
        "coverage": "coverage.fits",
        "science_noise": float(sigma_sci),
        "reference_noise": float(sigma_ref),
        "science_electrons_per_rate": float(gt_sci),
        "reference_electrons_per_rate": float(gt_ref * nref),
        "pixel_scale_arcsec": s["pixel_scale_arcsec"],
        "zero_point": s["zero_point"],
        "science_fwhm": s["science_fwhm"],
        "reference_fwhm": s["reference_fwhm"],
        "spec": s,
    }
    with open(os.path.join(outdir, "imageset.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    for name in os.listdir(work):
        os.remove(os.path.join(work, name))
    os.rmdir(work)


if __name__ == "__main__":
    main()
