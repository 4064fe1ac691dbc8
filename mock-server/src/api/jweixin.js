/*
 * wechat-mock's stand-in for WeChat's JS-SDK (jweixin-1.6.0.js). Nothing here talks to WeChat:
 * wx.config asks the mock that served this file whether the signature matches the app's current
 * jsapi_ticket, exactly as WeChat checks it (sha1 of
 * "jsapi_ticket=…&noncestr=…&timestamp=…&url=…", url without its #fragment). A wrong signature
 * calls wx.error with {errMsg: "config:invalid signature", errcode: 63002}. Device APIs answer
 * with sample data once config succeeded and the API is in jsApiList.
 */
(function (global) {
  'use strict';
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : '';
  var state = 'idle';
  var failure = null;
  var allowed = {};
  var readyQueue = [];
  var errorQueue = [];
  var debug = false;

  function settle(ok, error) {
    state = ok ? 'ready' : 'error';
    failure = error;
    if (debug) {
      global.alert(ok ? '{"errMsg":"config:ok"}' : JSON.stringify(error));
    }
    var queue = ok ? readyQueue : errorQueue;
    readyQueue = [];
    errorQueue = [];
    queue.forEach(function (fn) {
      try { ok ? fn() : fn(error); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  function config(options) {
    options = options || {};
    debug = !!options.debug;
    allowed = {};
    (options.jsApiList || []).forEach(function (name) { allowed[name] = true; });
    state = 'pending';
    var query = new URLSearchParams({
      appid: options.appId || '',
      timestamp: String(options.timestamp === undefined ? '' : options.timestamp),
      noncestr: options.nonceStr || '',
      signature: options.signature || '',
      url: global.location.href.split('#')[0]
    });
    fetch(base + '/mock/jssdk/verify?' + query.toString())
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.errcode === 0) {
          settle(true, null);
        } else {
          settle(false, {
            errMsg: 'config:' + (answer.errmsg || 'invalid signature'),
            errcode: answer.errcode,
            hint: answer.hint
          });
        }
      })
      .catch(function (e) {
        settle(false, { errMsg: 'config:fail ' + e, errcode: -1 });
      });
  }

  function whenReady(fn) {
    if (state === 'ready') { fn(); } else if (state === 'pending' || state === 'idle') { readyQueue.push(fn); }
  }

  function invoke(name, options, result) {
    options = options || {};
    var done = function () {
      var res;
      if (state === 'ready' && allowed[name]) {
        res = Object.assign({ errMsg: name + ':ok' }, result || {});
        if (options.success) { options.success(res); }
      } else {
        res = { errMsg: name + ':permission denied' };
        if (options.fail) { options.fail(res); }
      }
      if (options.complete) { options.complete(res); }
    };
    if (state === 'error') { done(); } else { whenReady(done); }
  }

  function api(name, result) {
    return function (options) { invoke(name, options, typeof result === 'function' ? result(options) : result); };
  }

  var wx = {
    version: '1.6.0-wechat-mock',
    config: config,
    ready: function (fn) { if (state === 'ready') { fn(); } else { readyQueue.push(fn); } },
    error: function (fn) { if (state === 'error') { fn(failure); } else { errorQueue.push(fn); } },
    checkJsApi: function (options) {
      options = options || {};
      var checked = {};
      (options.jsApiList || []).forEach(function (name) { checked[name] = typeof wx[name] === 'function'; });
      var res = { errMsg: 'checkJsApi:ok', checkResult: checked };
      if (options.success) { options.success(res); }
      if (options.complete) { options.complete(res); }
    },
    updateAppMessageShareData: api('updateAppMessageShareData'),
    updateTimelineShareData: api('updateTimelineShareData'),
    onMenuShareTimeline: api('onMenuShareTimeline'),
    onMenuShareAppMessage: api('onMenuShareAppMessage'),
    getLocation: api('getLocation', { latitude: 23.12908, longitude: 113.26436, speed: 0, accuracy: 65 }),
    openLocation: api('openLocation'),
    chooseImage: api('chooseImage', { localIds: ['wxlocalresource://wechat-mock-1'] }),
    previewImage: api('previewImage'),
    uploadImage: api('uploadImage', { serverId: 'wechat-mock-media-1' }),
    getLocalImgData: api('getLocalImgData', { localData: '' }),
    scanQRCode: api('scanQRCode', function (options) {
      return options && options.needResult ? { resultStr: 'https://example.com/qr/wechat-mock' } : {};
    }),
    getNetworkType: api('getNetworkType', { networkType: 'wifi' }),
    hideOptionMenu: api('hideOptionMenu'),
    showOptionMenu: api('showOptionMenu'),
    hideMenuItems: api('hideMenuItems'),
    showMenuItems: api('showMenuItems'),
    hideAllNonBaseMenuItem: api('hideAllNonBaseMenuItem'),
    showAllNonBaseMenuItem: api('showAllNonBaseMenuItem'),
    closeWindow: function () { global.history.back(); }
  };
  global.wx = wx;
  global.jWeixin = wx;
})(window);
