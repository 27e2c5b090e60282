using Notifications.Core.Validation;

namespace Notifications.Tests.Unit;

/// <summary>What an attachment may be: judged by its name (normalised) and its declared type, never one alone.</summary>
public sealed class AttachmentPolicyTests
{
    private static readonly AttachmentPolicy Shipped = new(new EmailOptions());

    [Theory]
    [InlineData("setup.iso", "application/octet-stream", "filename")]
    [InlineData("disk.img", "application/octet-stream", "filename")]
    [InlineData("drive.VHD", "application/octet-stream", "filename")]
    [InlineData("login.html", "text/plain", "filename")]
    [InlineData("logo.svg", "image/png", "filename")]
    [InlineData("notes.txt", "application/x-msdownload", "contentType")]
    [InlineData("page.txt", "text/html; charset=utf-8", "contentType")]
    [InlineData("drawing.png", "image/svg+xml", "contentType")]
    [InlineData("report\u202Efdp.txt", "text/plain", "filename")] // shows as "reporttxt.pdf"
    [InlineData("invoice\u2066.pdf\u2069.exe", "application/pdf", "filename")]
    [InlineData("invoice.pdf.exe. ", "application/pdf", "filename")]
    [InlineData("run\uFF0Eexe", "application/octet-stream", "filename")] // a full-width dot: ".exe" once folded
    [InlineData("run.\uFF45\uFF58\uFF45", "application/octet-stream", "filename")] // full-width letters
    [InlineData("tool.PS1", "text/plain", "filename")]
    public void Blocked_by_name_or_type_with_the_field_that_says_why(string filename, string contentType, string field) =>
        Assert.Equal(field, Shipped.Refusal(filename, contentType)?.Field);

    [Theory]
    [InlineData("invoice.pdf", "application/pdf")]
    [InlineData("photo.jpeg", "image/jpeg")]
    [InlineData("data.csv", "text/csv")]
    [InlineData("archive.zip", "application/zip")]
    [InlineData("Überweisung.txt", "text/plain")]
    public void Ordinary_files_go(string filename, string contentType) =>
        Assert.Null(Shipped.Refusal(filename, contentType));

    [Fact]
    public void An_allowed_ending_lets_its_name_and_its_content_types_through_and_nothing_else()
    {
        var policy = new AttachmentPolicy(new EmailOptions { AllowedAttachmentTypes = [".html", "svg"] });

        Assert.Null(policy.Refusal("report.html", "text/html"));
        Assert.Null(policy.Refusal("logo.svg", "image/svg+xml"));
        Assert.NotNull(policy.Refusal("setup.exe", "application/octet-stream"));
        Assert.NotNull(policy.Refusal("notes.txt", "application/x-msdownload"));
        Assert.NotNull(policy.Refusal("report\u202Elmth.txt", "text/plain")); // no allowing makes a disguised name plain
    }
}
