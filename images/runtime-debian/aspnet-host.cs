// A stand-in for xsp4 in the default test tier's runtime image (images/runtime-debian).
//
// Debian 12 ships XSP 4.2 (mono-xsp4), which cannot run on its Mono 6.8: xsp4 dies with a
// TypeLoadException (Mono.Security.Protocol.Tls.PrivateKeySelectionCallback was removed from
// Mono; XSP >= 4.7 is needed). This host serves an ASP.NET site the way xsp4 does for the
// smoke check -- System.Web's HttpRuntime compiles and renders the .aspx pages -- and takes
// the same arguments: --port N, --applications /:DIR (or --root DIR), --nonstop.
// The e2e tier runs the real xsp4 built by the builder.
using System;
using System.IO;
using System.Net;
using System.Text;
using System.Web;
using System.Web.Hosting;

public sealed class RecordingWorkerRequest : SimpleWorkerRequest
{
    public int Status = 200;

    public RecordingWorkerRequest(string page, string query, TextWriter output)
        : base(page, query, output) { }

    public override void SendStatus(int statusCode, string statusDescription)
    {
        Status = statusCode;
        base.SendStatus(statusCode, statusDescription);
    }
}

public sealed class PageHost : MarshalByRefObject
{
    public string Render(string page, string query, out int status)
    {
        var output = new StringWriter();
        var request = new RecordingWorkerRequest(page, query, output);
        HttpRuntime.ProcessRequest(request);
        output.Flush();
        status = request.Status;
        return output.ToString();
    }

    public override object InitializeLifetimeService() { return null; }
}

public static class Program
{
    public static int Main(string[] args)
    {
        int port = 8080;
        string root = Directory.GetCurrentDirectory();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--port" && i + 1 < args.Length) port = int.Parse(args[++i]);
            else if (args[i] == "--root" && i + 1 < args.Length) root = args[++i];
            else if (args[i] == "--applications" && i + 1 < args.Length)
            {
                string app = args[++i].Split(',')[0];
                int colon = app.IndexOf(':');
                if (colon >= 0) root = app.Substring(colon + 1);
            }
        }
        root = Path.GetFullPath(root);
        // ASP.NET loads the host type in the application's domain: from the site's bin/.
        string bin = Path.Combine(root, "bin");
        Directory.CreateDirectory(bin);
        string self = typeof(PageHost).Assembly.Location;
        File.Copy(self, Path.Combine(bin, Path.GetFileName(self)), true);
        var host = (PageHost)ApplicationHost.CreateApplicationHost(typeof(PageHost), "/", root);

        var listener = new HttpListener();
        listener.Prefixes.Add("http://*:" + port + "/");
        listener.Start();
        Console.WriteLine("Listening on port: " + port + " (ASP.NET stand-in for xsp4), root " + root);
        while (true)
        {
            HttpListenerContext context = listener.GetContext();
            int status;
            string body;
            try
            {
                string page = context.Request.Url.AbsolutePath.TrimStart('/');
                string query = context.Request.Url.Query.TrimStart('?');
                body = host.Render(page, query, out status);
            }
            catch (Exception e)
            {
                status = 500;
                body = e.ToString();
            }
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes, 0, bytes.Length);
            context.Response.OutputStream.Close();
        }
    }
}
