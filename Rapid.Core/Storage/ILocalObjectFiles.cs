namespace Rapid.Core.Storage;

/// <summary>
/// A store whose objects are local files (the embedded directory store): a job reads its inputs where they lie and hands
/// its products over by renaming them into place, rather than copying each image into its work directory and back out
/// (at 4088^2, eight copies of ~67 MB took about 1 CPU s of a science job, 7 % of its profile).
/// </summary>
public interface ILocalObjectFiles
{
    /// <summary>The file that holds the object, to be read in place and never written; <see cref="ObjectNotFoundException"/> when it is missing.</summary>
    string ReadablePath(ObjectRef source);

    /// <summary>
    /// Stores the local file as the object by moving it (a rename on the same file system, else a copy and a delete):
    /// the local file is gone afterwards. Atomic as a put: no reader sees half an object.
    /// </summary>
    Task MoveFileAsync(ObjectRef target, string localPath, CancellationToken ct = default);
}
