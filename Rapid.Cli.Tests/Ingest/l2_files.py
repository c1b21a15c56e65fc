# Writes the L2 files the ingest tests register, with astropy (not Rapid's FITS writer), and what astropy reads from them.
import hashlib, json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS
warnings.simplefilter("ignore")

out = sys.argv[1]
W, H = 128, 96
rng = np.random.default_rng(5)


def wcs_header(ra, dec, sip=True):
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = ("RA---TAN-SIP", "DEC--TAN-SIP") if sip else ("RA---TAN", "DEC--TAN")
    h["CRVAL1"], h["CRVAL2"] = ra, dec
    h["CRPIX1"], h["CRPIX2"] = 60.5, 40.25
    h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = -3.05e-5, 0.4e-6, 0.3e-6, 3.05e-5
    if sip:
        h["A_ORDER"], h["B_ORDER"] = 2, 2
        h["A_2_0"], h["A_0_2"], h["A_1_1"] = 2.1e-5, -1.3e-5, 0.8e-5
        h["B_2_0"], h["B_0_2"], h["B_1_1"] = -0.9e-5, 1.7e-5, 1.1e-5
    return h


def image():
    return (100 + 5 * rng.standard_normal((H, W))).astype(np.float32)


def expect(path, h, mjd, filt, sca, exptime):
    w = WCS(h)
    corners = w.all_pix2world([[1, 1], [W, 1], [W, H], [1, H]], 1).tolist()
    center = w.all_pix2world([[(W + 1) / 2, (H + 1) / 2]], 1).tolist()[0]
    md5 = hashlib.md5(open(path, "rb").read()).hexdigest()
    return {"mjd": mjd, "filter": filt, "sca": sca, "exptime": exptime, "corners": corners, "center": center, "md5": md5,
            "naxis1": W, "naxis2": H}


expected = {}
# A Roman-like primary-HDU image: MJD-OBS, TAN-SIP.
h = wcs_header(9.52, -44.01)
h["MJD-OBS"], h["FILTER"], h["EXPTIME"], h["SCA_NUM"] = 61000.125, "H158", 139.8, 3
h["RA_TARG"], h["DEC_TARG"] = 9.5, -44.0
fits.PrimaryHDU(image(), header=h).writeto(f"{out}/good/roman-primary.fits")
expected["roman-primary.fits"] = expect(f"{out}/good/roman-primary.fits", h, 61000.125, "H158", 3, 139.8)
# The same exposure and SCA, other pixels: a second version of that l2file.
fits.PrimaryHDU(image(), header=h).writeto(f"{out}/v2/roman-primary.fits")

# A survey layout: empty primary with the observation keywords (DATE-OBS in UTC, TIMESYS), a DQ extension, then SCI
# inheriting them (INHERIT = T), gzip-compressed.
p = fits.Header()
p["DATE-OBS"], p["TIMESYS"], p["FILTER"], p["EXPTIME"], p["SCA_NUM"] = "2026-02-25T04:05:06.250", "UTC", "F184", 60.0, 7
s = wcs_header(9.54, -43.99)
s["EXTNAME"], s["INHERIT"] = "SCI", True
dq = fits.ImageHDU(np.zeros((H, W), np.int16), name="DQ")
fits.HDUList([fits.PrimaryHDU(header=p), dq, fits.ImageHDU(image(), header=s)]).writeto(f"{out}/good/survey-sci.fits.gz")
merged = s.copy(); merged.update(p)
expected["survey-sci.fits.gz"] = expect(f"{out}/good/survey-sci.fits.gz", merged, Time("2026-02-25T04:05:06.250", scale="utc").mjd, "F184", 7, 60.0)

# Unsigned 16-bit counts (BZERO 32768), the time only as ZTF's OBSMJD, plain TAN.
h = wcs_header(9.50, -44.02, sip=False)
h["OBSMJD"], h["FILTER"], h["EXPTIME"], h["SCA_NUM"] = 61000.5, "J129", 30.0, 12
fits.PrimaryHDU(np.clip(np.round(image() * 10), 0, 65535).astype(np.uint16), header=h).writeto(f"{out}/good/obsmjd-uint16.fits")
expected["obsmjd-uint16.fits"] = expect(f"{out}/good/obsmjd-uint16.fits", h, 61000.5, "J129", 12, 30.0)

# Files that cannot be registered, and the keyword each must be refused for.
def bad(name, remove=(), **values):
    h = wcs_header(9.52, -44.01)
    h["MJD-OBS"], h["FILTER"], h["EXPTIME"], h["SCA_NUM"] = 61001.25, "H158", 139.8, 4
    for k in remove:
        del h[k]
    for k, v in values.items():
        h[k.replace("__", "-")] = v
    fits.PrimaryHDU(image(), header=h).writeto(f"{out}/bad/{name}")

bad("no-exptime.fits", remove=["EXPTIME"])
bad("bad-timesys.fits", remove=["MJD-OBS"], DATE__OBS="2026-02-25T01:00:00", TIMESYS="MARS")
bad("unknown-filter.fits", FILTER="V")
bad("no-sca.fits", remove=["SCA_NUM"])
bad("zpn.fits", CTYPE1="RA---ZPN", CTYPE2="DEC--ZPN")
bad("truncated.fits")
with open(f"{out}/bad/truncated.fits", "r+b") as f:
    f.truncate(2880 * 2 + 1000)  # the header and a part of the pixels: a file still being copied
refused = {"no-exptime.fits": "EXPTIME", "bad-timesys.fits": "TIMESYS", "unknown-filter.fits": "filter 'V'",
           "no-sca.fits": "SCA_NUM", "zpn.fits": "CTYPE1", "truncated.fits": "truncated"}
json.dump({"good": expected, "refused": refused}, open(f"{out}/expected.json", "w"), indent=1)
