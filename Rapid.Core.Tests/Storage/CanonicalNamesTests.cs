using Rapid.Core.Storage;

namespace Rapid.Core.Tests.Storage;

public class CanonicalNamesTests
{
    [Fact]
    public void Reference_images_carry_field_filter_pipeline_version_and_rfid() =>
        Assert.Equal("rapid_field123456_fid3_ppid12_v2_rfid77_refimage.fits",
            CanonicalNames.ReferenceImage(field: 123456, fid: 3, ppid: 12, version: 2, rfid: 77));

    [Fact]
    public void Difference_images_carry_field_filter_sca_rid_pipeline_version_and_pid() =>
        Assert.Equal("rapid_field123456_fid3_sca7_rid9_ppid15_v1_pid44_diffimage.fits",
            CanonicalNames.DifferenceImage(field: 123456, fid: 3, sca: 7, rid: 9, ppid: 15, version: 1, pid: 44));

    [Fact]
    public void Companion_products_differ_only_in_their_suffix()
    {
        Assert.Equal("rapid_field1_fid2_ppid12_v1_rfid5_refimage_cov.fits", CanonicalNames.ReferenceImage(1, 2, 12, 1, 5, "refimage_cov"));
        Assert.Equal("rapid_field1_fid2_sca3_rid4_ppid15_v1_pid6_diffimage_uncert.fits", CanonicalNames.DifferenceImage(1, 2, 3, 4, 15, 1, 6, "diffimage_uncert"));
    }

    [Fact]
    public void A_new_version_gets_a_new_name() =>
        Assert.NotEqual(CanonicalNames.ReferenceImage(1, 2, 12, 1, 5), CanonicalNames.ReferenceImage(1, 2, 12, 2, 5));
}
