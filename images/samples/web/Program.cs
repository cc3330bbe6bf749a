// Smoke-test sample: a self-hosted web app (System.Net.HttpListener) on port 5000.
// The check expects HTTP 200 with "Hello from Mono on port 5000" in the body.
using System;
using System.Net;
using System.Text;

public static class Program
{
    public static int Main()
    {
        string port = Environment.GetEnvironmentVariable("PORT") ?? "5000";
        var listener = new HttpListener();
        listener.Prefixes.Add("http://*:" + port + "/");
        listener.Start();
        Console.WriteLine("listening on port " + port);
        while (true)
        {
            HttpListenerContext context = listener.GetContext();
            byte[] body = Encoding.UTF8.GetBytes("Hello from Mono on port " + port + "\n");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.ContentLength64 = body.Length;
            context.Response.OutputStream.Write(body, 0, body.Length);
            context.Response.OutputStream.Close();
        }
    }
}
