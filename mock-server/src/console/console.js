/* The wechat-mock console: chat as a fake user, render what the account answers, show the logs.
 * Every text from the server goes in through textContent; nothing is fetched from outside. */
(function () {
  'use strict';

  var boot = JSON.parse(document.getElementById('boot').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var chat = $('chat');
  var userSelect = $('user');
  var textInput = $('text');
  var menubar = $('menubar');
  var typing = $('typing');
  // The console's own refreshes are kept out of the request log it shows.
  var QUIET = { 'x-wechat-mock-quiet': '1' };
  var SAMPLE = { lat: 23.12908, lon: 113.26436, label: '广东省广州市天河区珠江新城', qr: 'https://example.com/qr/wechat-mock' };

  var state = {
    openid: userSelect.value,
    lastSeq: 0,
    lastAt: 0,
    pending: 0,
    menu: JSON.stringify(boot.menu),
    loading: null
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || '') ? url : null;
  }

  function mediaUrl(id) {
    return '/mock/media/' + encodeURIComponent(String(id || 'media').slice(0, 64)) + '.svg';
  }

  function clock(at) {
    var d = new Date(at * 1000);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function getJson(url) {
    return fetch(url, { headers: QUIET }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    });
  }

  /* ---------- chat rendering ---------- */

  // Text replies may carry <a href="…">links</a>, which WeChat renders; everything else is text.
  function richText(node, content) {
    var re = /<a\s+href=(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi;
    var last = 0;
    var m;
    while ((m = re.exec(content)) !== null) {
      node.appendChild(document.createTextNode(content.slice(last, m.index)));
      var url = safeUrl(m[2]);
      if (url) {
        var a = el('a', null, m[3]);
        a.href = url;
        node.appendChild(a);
      } else {
        node.appendChild(document.createTextNode(m[0]));
      }
      last = re.lastIndex;
    }
    node.appendChild(document.createTextNode(content.slice(last)));
    return node;
  }

  function bubble(side, extra) {
    return el('div', 'bubble from-' + side + (extra ? ' ' + extra : ''));
  }

  function avatar(side) {
    if (side === 'user') {
      var img = el('img', 'av');
      img.alt = '';
      img.src = '/mock/avatar/' + encodeURIComponent(state.openid) + '.svg';
      return img;
    }
    return el('div', 'av account', (boot.name || 'W').charAt(0));
  }

  function row(side, content, note) {
    var r = el('div', 'row ' + side);
    var stack = el('div', 'stack');
    stack.appendChild(content);
    if (note) { stack.appendChild(el('span', 'tag-line', note)); }
    r.appendChild(avatar(side));
    r.appendChild(stack);
    return r;
  }

  function system(text, cls) {
    return el('p', 'system' + (cls ? ' ' + cls : ''), text);
  }

  function userNode(e) {
    var b;
    switch (e.msgtype) {
      case 'text':
        b = bubble('user');
        b.textContent = e.content;
        return row('user', b);
      case 'image':
        b = bubble('user', 'media');
        var img = el('img', 'photo');
        img.alt = '图片';
        img.src = safeUrl(e.pic_url) || mediaUrl('photo');
        b.appendChild(img);
        return row('user', b);
      case 'voice':
        b = bubble('user', 'voice', '3″ ◁))' + (e.recognition ? '  ' + e.recognition : ''));
        return row('user', b);
      case 'location':
        b = bubble('user', 'media');
        var card = el('div', 'loc-card');
        card.appendChild(el('div', 'map'));
        card.appendChild(el('div', 'label', e.label || '位置'));
        card.appendChild(el('div', 'coords', e.lat + ', ' + e.lon));
        b.appendChild(card);
        return row('user', b);
      case 'link':
        b = bubble('user', 'media');
        var link = el('a', 'link-card');
        var href = safeUrl(e.url);
        if (href) { link.href = href; }
        link.appendChild(el('div', 't', e.title));
        link.appendChild(el('div', 'd', e.url));
        b.appendChild(link);
        return row('user', b);
      case 'event':
        return system(boot.usersById[state.openid] + ' ' + e.summary, 'event');
      default:
        b = bubble('user', null, e.summary || '[' + e.msgtype + ']');
        return row('user', b);
    }
  }

  // As WeChat draws news: the first article is a picture with its title over the bottom of it
  // (and, when it is the only one, its description below the picture); every other article is
  // a row of its title and a small thumbnail.
  function newsNode(articles) {
    articles = articles || [];
    var b = bubble('account', 'news');
    var list = el('div', 'news-list ' + (articles.length > 1 ? 'multi' : 'single'));
    articles.forEach(function (a, i) {
      var card = el('a', 'news-card ' + (i === 0 ? 'lead' : 'item'));
      var href = safeUrl(a.url);
      if (href) { card.href = href; }
      var img = el('img', i === 0 ? 'pic' : 'thumb');
      img.alt = '';
      img.src = safeUrl(a.pic_url) || mediaUrl(a.title);
      var title = el('div', 'title', a.title);
      if (i === 0) {
        var cover = el('div', 'cover');
        cover.appendChild(img);
        cover.appendChild(title);
        card.appendChild(cover);
        if (articles.length === 1 && a.description) {
          card.appendChild(el('div', 'desc', a.description));
        }
      } else {
        card.appendChild(title);
        card.appendChild(img);
      }
      list.appendChild(card);
    });
    b.appendChild(list);
    return b;
  }

  function accountNode(e) {
    var b;
    switch (e.msgtype) {
      case 'text':
        return richText(bubble('account'), e.content || '');
      case 'image':
        b = bubble('account', 'media');
        var img = el('img', 'photo');
        img.alt = '图片 ' + e.media_id;
        img.title = 'media_id ' + e.media_id;
        img.src = mediaUrl(e.media_id);
        b.appendChild(img);
        return b;
      case 'voice':
        return bubble('account', 'voice', '((▷ 语音消息');
      case 'video':
        b = bubble('account', 'media');
        var video = el('div', 'link-card');
        var poster = el('img', 'photo');
        poster.alt = '';
        poster.src = mediaUrl(e.media_id);
        video.appendChild(poster);
        video.appendChild(el('div', 't', '▶ ' + (e.title || '视频')));
        if (e.description) { video.appendChild(el('div', 'd', e.description)); }
        b.appendChild(video);
        return b;
      case 'music':
        b = bubble('account', 'media');
        var music = el('a', 'music-card');
        var src = safeUrl(e.music_url) || safeUrl(e.hq_music_url);
        if (src) { music.href = src; }
        music.appendChild(el('span', 'note', '♪'));
        var words = el('span');
        words.appendChild(el('div', 't', e.title || '音乐'));
        words.appendChild(el('div', 'd', e.description || ''));
        music.appendChild(words);
        b.appendChild(music);
        return b;
      case 'news':
        return newsNode(e.articles);
      case 'msgmenu':
        b = bubble('account', 'msgmenu');
        b.appendChild(document.createTextNode(e.head_content || ''));
        (e.list || []).forEach(function (option) {
          var a = el('a', null, option.content);
          a.href = '#';
          a.addEventListener('click', function (ev) {
            ev.preventDefault();
            push({ type: 'text', content: option.content });
          });
          b.appendChild(a);
        });
        b.appendChild(document.createTextNode(e.tail_content || ''));
        return b;
      case 'miniprogrampage':
        b = bubble('account', 'media');
        var mini = el('div', 'mini-card');
        mini.appendChild(el('div', 't', '小程序 · ' + (e.title || '')));
        mini.appendChild(el('div', 'd', e.pagepath || ''));
        b.appendChild(mini);
        return b;
      case 'mpnews':
        return bubble('account', null, '[图文消息] ' + (e.media_id || ''));
      case 'wxcard':
        return bubble('account', null, '[卡券] ' + (e.card_id || ''));
      default:
        return bubble('account', null, '[' + e.msgtype + ']');
    }
  }

  function render(e) {
    switch (e.kind) {
      case 'user':
        return userNode(e);
      case 'reply':
        if (e.msgtype === 'transfer_customer_service') {
          return system('消息已转接到客服' + (e.kf_account ? '（' + e.kf_account + '）' : ''));
        }
        return row('account', accountNode(e));
      case 'custom':
        return row('account', accountNode(e), '客服消息');
      case 'problem':
        return system(e.text, 'problem');
      case 'notice':
        return system(e.text, 'notice');
      default:
        return system('[' + e.kind + ']');
    }
  }

  function append(node, at) {
    var empty = $('chat-empty');
    if (empty) { empty.remove(); }
    if (at && at - state.lastAt > 180) {
      chat.appendChild(system(clock(at).slice(0, 5), 'time'));
    }
    if (at) { state.lastAt = at; }
    chat.appendChild(node);
    scrollDown();
    // Pictures change the height when they arrive.
    node.querySelectorAll && node.querySelectorAll('img').forEach(function (img) {
      img.addEventListener('load', scrollDown);
    });
  }

  function scrollDown() {
    chat.scrollTop = chat.scrollHeight;
  }

  function loadConversation(reset) {
    var openid = state.openid;
    if (!openid) { return Promise.resolve(); }
    if (reset) {
      chat.textContent = '';
      chat.appendChild(system('发一条消息，或点底部菜单：消息会按公众号的加密模式推送到开发者服务器。'));
      chat.lastChild.id = 'chat-empty';
      state.lastSeq = 0;
      state.lastAt = 0;
    }
    var after = state.lastSeq;
    return getJson('/mock/conversation/' + encodeURIComponent(openid) + '?after=' + after)
      .then(function (entries) {
        // A newer load or another user may have rendered in the meantime.
        if (openid !== state.openid || after !== state.lastSeq) { return; }
        entries.forEach(function (e) {
          if (e.seq > state.lastSeq) {
            append(render(e), e.at);
            state.lastSeq = e.seq;
          }
        });
      })
      .catch(function () { /* the mock was restarted or stopped: the next poll retries */ });
  }

  /* ---------- pushing ---------- */

  // "对方正在输入…" shows only while a push is in flight: set when one is sent, cleared when the
  // last answer arrives or the request fails (the line under the name is empty otherwise).
  function setPending(delta) {
    state.pending = Math.max(0, state.pending + delta);
    typing.hidden = state.pending === 0;
  }

  function push(action, options) {
    options = options || {};
    setPending(1);
    var request = fetch('/mock/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid: state.openid, action: action }),
      keepalive: !!options.keepalive
    }).then(function (r) { return r.json(); });
    // The mock records what the user sent before delivering it: show it at once.
    setTimeout(function () { loadConversation(false); }, 150);
    return request
      .catch(function (e) { append(system('推送失败：' + e, 'problem')); })
      .then(function (outcome) {
        setPending(-1);
        loadConversation(false);
        if (action.type === 'subscribe' || action.type === 'unsubscribe') { refreshUsers(); }
        return outcome;
      });
  }

  function sendText() {
    var text = textInput.value;
    if (!text.trim()) { textInput.focus(); return; }
    textInput.value = '';
    push({ type: 'text', content: text });
    textInput.focus();
  }

  /* ---------- the custom menu ---------- */

  function menuButton(cls, b) {
    var button = el('button', cls, b.name);
    button.type = 'button';
    if (b.type) { button.dataset.type = b.type; }
    if (b.key) { button.dataset.key = b.key; }
    if (b.url) { button.dataset.url = b.url; }
    if (b.pagepath) { button.dataset.pagepath = b.pagepath; }
    if (b.media_id) { button.dataset.media = b.media_id; }
    return button;
  }

  function renderMenu(menu) {
    menubar.textContent = '';
    var buttons = (menu && menu.button) || [];
    if (!buttons.length) {
      menubar.appendChild(el('span', 'menu-empty', '该公众号还没有自定义菜单'));
      return;
    }
    buttons.forEach(function (b, i) {
      var slot = el('div', 'menu-slot');
      if (b.sub_button && b.sub_button.length) {
        var group = menuButton('menu-button group', { name: b.name });
        group.dataset.group = String(i);
        var sub = el('div', 'submenu');
        sub.hidden = true;
        b.sub_button.forEach(function (s) { sub.appendChild(menuButton('menu-item', s)); });
        slot.appendChild(group);
        slot.appendChild(sub);
      } else {
        slot.appendChild(menuButton('menu-button', b));
      }
      menubar.appendChild(slot);
    });
  }

  function closeSubmenus(except) {
    menubar.querySelectorAll('.submenu').forEach(function (s) {
      if (s !== except) { s.hidden = true; }
    });
  }

  function tap(d, name) {
    switch (d.type) {
      case 'click':
        return push({ type: 'click', key: d.key });
      case 'view': {
        var url = d.url;
        // WeChat opens the page at once and reports the VIEW event meanwhile; keepalive lets the
        // push finish while this tab navigates, as in WeChat's in-app browser.
        var sent = push({ type: 'view', url: url }, { keepalive: true });
        var soon = new Promise(function (resolve) { setTimeout(resolve, 600); });
        return Promise.race([sent, soon]).then(function () {
          if (safeUrl(url)) { window.location.href = url; }
        });
      }
      case 'scancode_push':
      case 'scancode_waitmsg':
        return push({ type: d.type, key: d.key, result: SAMPLE.qr });
      case 'pic_sysphoto':
      case 'pic_photo_or_album':
      case 'pic_weixin':
        return push({ type: d.type, key: d.key, count: 1 });
      case 'location_select':
        return push({ type: 'location_select', key: d.key, lat: SAMPLE.lat, lon: SAMPLE.lon, label: SAMPLE.label });
      case 'miniprogram':
        append(system('打开小程序 ' + (d.pagepath || '') + '（模拟器里没有小程序）'));
        return push({ type: 'view_miniprogram', pagepath: d.pagepath || '' });
      default:
        append(system('「' + name + '」直接下发素材（' + d.type + '），不推送给开发者服务器'));
        return Promise.resolve();
    }
  }

  menubar.addEventListener('click', function (ev) {
    var target = ev.target.closest('button');
    if (!target) { return; }
    if (target.dataset.group !== undefined) {
      var sub = target.parentNode.querySelector('.submenu');
      closeSubmenus(sub);
      sub.hidden = !sub.hidden;
      return;
    }
    closeSubmenus(null);
    if (target.dataset.type) { tap(target.dataset, target.textContent); }
  });

  document.addEventListener('click', function (ev) {
    if (!menubar.contains(ev.target)) { closeSubmenus(null); }
  });

  function refreshMenu() {
    if (!state.openid) { return; }
    getJson('/mock/menu?openid=' + encodeURIComponent(state.openid)).then(function (menu) {
      var text = JSON.stringify({ button: menu.button || [] });
      if (text !== state.menu) {
        state.menu = text;
        renderMenu(menu);
      }
    }).catch(function () {});
  }

  /* ---------- users ---------- */

  boot.usersById = {};
  boot.users.forEach(function (u) { boot.usersById[u.openid] = u.nickname; });

  function refreshUsers() {
    getJson('/mock/users?appid=' + encodeURIComponent(boot.appid)).then(function (users) {
      users.forEach(function (u) {
        boot.usersById[u.openid] = u.nickname;
        var option = Array.prototype.find.call(userSelect.options, function (o) { return o.value === u.openid; });
        if (!option) {
          option = el('option');
          option.value = u.openid;
          userSelect.appendChild(option);
        }
        option.textContent = u.nickname + (u.subscribed ? '' : '（未关注）');
        option.dataset.subscribed = u.subscribed ? '1' : '0';
      });
    }).catch(function () {});
  }

  function subscribed() {
    var option = userSelect.options[userSelect.selectedIndex];
    return !option || option.dataset.subscribed !== '0';
  }

  userSelect.addEventListener('change', function () {
    state.openid = userSelect.value;
    loadConversation(true);
    refreshMenu();
  });

  /* ---------- controls ---------- */

  $('send').addEventListener('click', sendText);
  textInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.isComposing) { ev.preventDefault(); sendText(); }
  });
  $('subscribe').addEventListener('click', function () { push({ type: 'subscribe' }); });
  $('unsubscribe').addEventListener('click', function () { push({ type: 'unsubscribe' }); });
  $('location').addEventListener('click', function () {
    push({ type: 'location', lat: SAMPLE.lat, lon: SAMPLE.lon, label: SAMPLE.label });
  });
  $('image').addEventListener('click', function () { push({ type: 'image' }); });
  $('voice').addEventListener('click', function () { push({ type: 'voice', recognition: '你好' }); });
  $('scan').addEventListener('click', function () {
    var scene = $('scene').value.trim() || '1';
    // A user who does not follow yet follows by scanning: WeChat sends subscribe + qrscene_.
    push(subscribed() ? { type: 'scan', scene: scene } : { type: 'subscribe', scene: scene });
  });

  $('callback-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var result = $('callback-result');
    var submit = $('callback-submit');
    var url = $('callback-url').value.trim();
    var mode = $('callback-mode').value;
    submit.disabled = true;
    result.hidden = false;
    result.className = 'result';
    result.textContent = '正在验证：GET ' + url + '?signature=…&echostr=…';
    fetch('/mock/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: url, mode: mode, appid: boot.appid })
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (answer.ok) {
        result.className = 'result ok';
        result.textContent = '✓ 配置成功：' + answer.url + '（' + answer.mode + '）';
        $('callback-current').textContent = answer.url;
        $('mode-current').textContent = answer.mode;
      } else {
        result.className = 'result bad';
        result.textContent = '✗ ' + (answer.problem || answer.errmsg || '配置失败');
      }
    }).catch(function (e) {
      result.className = 'result bad';
      result.textContent = '✗ ' + e;
    }).then(function () { submit.disabled = false; });
  });

  /* ---------- logs ---------- */

  function cell(tr, text, cls) {
    var td = el('td', cls, text);
    tr.appendChild(td);
    return td;
  }

  function fill(table, rows, empty) {
    var body = table.tBodies[0];
    body.textContent = '';
    if (!rows.length) {
      var tr = el('tr', 'empty');
      var td = cell(tr, empty);
      td.colSpan = 5;
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function refreshLogs() {
    var showAdmin = $('show-admin').checked;
    getJson('/mock/requests?limit=60').then(function (list) {
      var rows = list.filter(function (r) {
        return showAdmin || !(r.path === '/' || r.path.indexOf('/mock/') === 0);
      }).slice(-25).reverse().map(function (r) {
        var tr = el('tr');
        cell(tr, clock(r.at), 'at');
        cell(tr, r.method);
        cell(tr, r.path + (r.query ? '?' + r.query : ''), 'path');
        var bad = r.status >= 400 || r.errcode;
        cell(tr, r.errcode ? 'errcode ' + r.errcode : String(r.status), 'st ' + (bad ? 'err' : 'ok'));
        return tr;
      });
      fill($('requests'), rows, '还没有 API 调用');
    }).catch(function () {});
    getJson('/mock/deliveries?limit=25').then(function (list) {
      var rows = list.slice().reverse().map(function (d) {
        var tr = el('tr');
        cell(tr, clock(d.at), 'at');
        cell(tr, d.method);
        cell(tr, d.path + (d.attempt > 1 ? '  (第 ' + d.attempt + ' 次)' : ''), 'path');
        var ok = d.status && d.status < 400;
        cell(tr, d.result, 'st ' + (ok ? 'ok' : 'err'));
        cell(tr, d.millis + ' ms', 'at');
        return tr;
      });
      fill($('deliveries'), rows, '还没有推送');
    }).catch(function () {});
  }

  $('show-admin').addEventListener('change', refreshLogs);

  /* ---------- start ---------- */

  refreshUsers();
  loadConversation(true);
  refreshLogs();
  setInterval(function () { loadConversation(false); }, 1500);
  setInterval(refreshMenu, 4000);
  setInterval(refreshLogs, 2000);
  setInterval(refreshUsers, 5000);
})();
